"""The durable set of delayed jobs (DESIGN §4 "Release and delays").

Celery keeps a countdown message unacknowledged in one worker's memory: on Redis it comes back
after the visibility timeout and runs twice, a restart restores it as "redelivered", and no
one can see it waiting. Every delayed job is therefore parked here, per connection and queue,
and moved to its queue when due by the workers that consume it (Laravel: the
`{queue}:delayed` ZSET).
"""

from laravel_queue.delayed.base import Claim, DelayedStore

__all__ = ["Claim", "DelayedStore"]

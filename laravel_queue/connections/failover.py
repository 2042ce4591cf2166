"""`FailoverConnection`: pushes go to the first of its connections that takes them (Laravel
12.34: the `failover` queue driver, `QueueFailedOver`).

    QueueManager(app, connections={
        "backup": "redis://backup-host:6379/0",
        "failover": "failover:default,backup",
    })

A push (`dispatch`, `Queue.push`/`bulk`, a release's or a retry's publish) tries each
connection in order; one whose broker cannot be reached (`QueueConnectionError`) fires
`QueueFailedOver` and the next is tried; when all fail, the last error is raised. A connection
that just failed is skipped for `RETRY_AFTER_SECONDS` (and tried again after), so an outage
costs one connect timeout per process, not one per job. Sizes, pausing and inspection read
the first connection (Laravel's rule); each connection has its own workers (`lq work
failover` starts one per connection).

Never lost: a job is queued on some connection or the dispatch raises. Doubled only when a
broker took the message and then failed to confirm it (the connection dropped between the
write and the reply): the same job, under the same uuid, then also goes to the next
connection — the at-least-once any dispatch retry has.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from laravel_queue import events
from laravel_queue.connections.base import Connection, ConnectionHost
from laravel_queue.durations import Delay
from laravel_queue.exceptions import ConfigurationError, QueueConnectionError
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.messages.inspected import InspectedJob
from laravel_queue.messages.payload import JobMessage

FAILOVER_SCHEME = "failover:"
RETRY_AFTER_SECONDS = 5.0

T = TypeVar("T")


def failover_members(url: str) -> list[str] | None:
    """The connection names of a `failover:a,b` URL; None for any other URL."""
    if not url.startswith(FAILOVER_SCHEME):
        return None
    return [name.strip() for name in url.removeprefix(FAILOVER_SCHEME).split(",") if name.strip()]


class FailoverConnection(Connection):
    def __init__(self, manager: ConnectionHost, name: str, members: list[Connection]) -> None:
        super().__init__(manager, name)
        if not members:
            raise ConfigurationError(f"failover connection '{name}' lists no connections")
        self.members = members
        self._skip_until: dict[str, float] = {}  # member name -> when to try it again

    @property
    def first(self) -> Connection:
        return self.members[0]

    # -- pushing: each member in turn --------------------------------------------------------

    def push(
        self,
        job: Queueable,
        queue: str | None = None,
        delay: Delay | None = None,
        *,
        job_id: str | None = None,
    ) -> str:
        job_id = job_id or job.job_id  # one uuid whichever connection takes it
        return self._first_that_takes(
            lambda member: member.push(job, queue, delay, job_id=job_id), job
        )

    def bulk(self, jobs: Iterable[Queueable], queue: str | None = None) -> list[str]:
        listed = list(jobs)
        return self._first_that_takes(lambda member: member.bulk(listed, queue), None)

    def publish(self, message: JobMessage, delay: float = 0.0) -> None:
        self._first_that_takes(lambda member: member.publish(message, delay), None)

    def publish_many(self, messages: Iterable[JobMessage]) -> None:
        listed = list(messages)
        self._first_that_takes(lambda member: member.publish_many(listed), None)

    def _first_that_takes(self, push: Callable[[Connection], T], job: Queueable | None) -> T:
        now = time.monotonic()
        candidates = [m for m in self.members if self._skip_until.get(m.name, 0.0) <= now]
        last_error: QueueConnectionError | None = None
        for member in candidates or self.members:  # all resting: try them all anyway
            try:
                result = push(member)
            except QueueConnectionError as exc:
                last_error = exc
                if member.name not in self._skip_until:  # once per outage per process
                    events.dispatch(events.QueueFailedOver(member.name, job, exc))
                self._skip_until[member.name] = time.monotonic() + RETRY_AFTER_SECONDS
                continue
            self._skip_until.pop(member.name, None)
            return result
        assert last_error is not None
        raise last_error

    # -- the rest: the first connection's (Laravel's rule) -----------------------------------

    def size(self, queue: str | None = None) -> int:
        return self.first.size(queue)

    def pending_size(self, queue: str | None = None) -> int:
        return self.first.pending_size(queue)

    def delayed_size(self, queue: str | None = None) -> int:
        return self.first.delayed_size(queue)

    def reserved_size(self, queue: str | None = None) -> int:
        return self.first.reserved_size(queue)

    def pending_by_level(self, queue: str | None = None) -> dict[str, int] | None:
        return self.first.pending_by_level(queue)

    def oldest_pending_at(self, queue: str | None = None) -> float | None:
        return self.first.oldest_pending_at(queue)

    def pending_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        return self.first.pending_jobs(queue, limit)

    def delayed_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        return self.first.delayed_jobs(queue, limit)

    def reserved_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        return self.first.reserved_jobs(queue, limit)

    def clear(self, queue: str | None = None) -> int:
        return self.first.clear(queue)

    def pause(self, queue: str | None = None, ttl: Delay | None = None) -> None:
        self.first.pause(queue, ttl)

    def resume(self, queue: str | None = None) -> None:
        self.first.resume(queue)

    def is_paused(self, queue: str | None = None) -> bool:
        return self.first.is_paused(queue)

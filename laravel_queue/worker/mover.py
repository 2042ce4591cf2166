"""Bootstep: move due delayed jobs of the queues this worker consumes onto those queues.

Runs in the worker's main process on the consumer's timer (every `mover_interval` seconds), in
every worker of the app, stock `celery worker` included. A claim is atomic in the store, so
with any number of workers each due job is published once (Laravel: RedisQueue::migrate).
"""

from __future__ import annotations

import time
from typing import Any

from laravel_queue.connections.celery import CeleryConnection
from laravel_queue.manager import manager_for_app
from laravel_queue.worker.steps import RepeatingStep


class DelayedJobMover(RepeatingStep):
    # While the store or broker is down, the jobs stay parked (or their claim expires) and
    # the next pass tries again.
    doing = "moving due delayed jobs"

    def interval(self, c: Any) -> float:
        return float(manager_for_app(c.app).worker_options.mover_interval)

    def tick(self, c: Any) -> int:
        return move_due_jobs(c)


def consumed_queues(c: Any) -> list[str]:
    return [q.name for q in c.app.amqp.queues.consume_from.values()]


def move_due_jobs(c: Any) -> int:
    """One pass over the consumed queues; returns how many jobs were moved."""
    moved = 0
    manager = manager_for_app(c.app)
    connection = manager.connection_for_app(c.app)
    if not isinstance(connection, CeleryConnection):
        return 0
    for queue in consumed_queues(c):
        claim = manager.delayed.claim_due(connection.name, queue, time.time())
        if not claim.messages:
            continue
        for message in claim.messages:
            connection.publish(message)
        manager.delayed.settle(claim)
        moved += len(claim.messages)
    return moved

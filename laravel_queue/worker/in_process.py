"""A real worker in a thread of the test's process, for integration tests: what the test
dispatched is taken from the broker, run through the whole pipeline (middleware, chains,
batch counts, failed jobs) and acknowledged, as `lq work` would — without a subprocess.

Celery's `celery.contrib.testing.worker.start_worker` runs it (solo pool, so a job runs in
the worker's thread and the test sees its effects at once); `drain()` returns once nothing
is left to do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from celery.contrib.testing.worker import start_worker
from celery.worker import state

from laravel_queue.jobs.options import WorkerOptions
from laravel_queue.transport.envelope import held_delivery_tags
from laravel_queue.worker.run import apply_sleep

if TYPE_CHECKING:
    from laravel_queue.connections.celery import CeleryConnection
    from laravel_queue.manager import QueueManager

POLL_SECONDS = 0.05


class LqWorker:
    """The running worker of the `lq_worker` fixture."""

    def __init__(self, manager: QueueManager, queues: Sequence[str]) -> None:
        self.manager = manager
        self.queues = list(queues)

    def idle(self) -> bool:
        """No job running or waiting for its batch count, and none pending, reserved or due
        on the worker's queues."""
        if state.active_requests or state.reserved_requests or held_delivery_tags:
            return False
        connection = self.manager.connection()
        now = time.time()
        return all(
            connection.pending_size(queue) == 0
            and connection.reserved_size(queue) == 0
            and self.manager.delayed.due_size(connection.name, queue, now) == 0
            for queue in self.queues
        )

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until everything dispatched so far (and what it dispatched: the rest of a
        chain, a batch's callbacks, released jobs that are due) has run. Delayed jobs that
        are not due yet are left waiting. Raises TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        idle_polls = 0
        while idle_polls < 3:  # three quiet looks in a row: nothing in between the steps
            idle_polls = idle_polls + 1 if self.idle() else 0
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the queues {', '.join(self.queues)} still had work after {timeout:g}s"
                )
            time.sleep(POLL_SECONDS)


@contextmanager
def running_worker(
    manager: QueueManager, queues: Sequence[str] = ("default",), **options: Any
) -> Iterator[LqWorker]:
    """A worker for `manager`'s default connection consuming `queues` (with `options` as
    `lq work` takes them: `tries=3`, ...), stopped on exit."""
    manager.worker_options = WorkerOptions(queues=list(queues), **options)
    connection: CeleryConnection = manager.connection()  # type: ignore[assignment]
    apply_sleep(connection, POLL_SECONDS)
    with start_worker(
        connection.app,
        pool="solo",
        perform_ping_check=False,
        queues=list(queues),
        shutdown_timeout=30,
        loglevel="WARNING",
    ):
        yield LqWorker(manager, queues)

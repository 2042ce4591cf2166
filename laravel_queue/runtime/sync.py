"""The `sync` connection (Laravel: SyncQueue): each job runs at once in the calling process,
through the same pipeline a worker uses — not Celery's `task_always_eager`, which skips it.
It lives with the runtime, not with the other connections, because it *is* a run."""

from __future__ import annotations

from typing import Protocol

from laravel_queue.connections.base import Connection, ConnectionHost
from laravel_queue.exceptions import UnregisteredJobError
from laravel_queue.jobs.registry import job_class
from laravel_queue.messages.payload import JobMessage
from laravel_queue.runtime.host import RunHost
from laravel_queue.runtime.job_run import JobRun


class SyncHost(ConnectionHost, RunHost, Protocol):
    """The manager, as a connection that runs its jobs needs it."""


class SyncConnection(Connection):
    """Runs the job inside `push` (Laravel: the `sync` driver): no retries, no failed_jobs row;
    the first exception fails the job and is raised to the caller. A delay is ignored."""

    manager: SyncHost

    def __init__(self, manager: SyncHost, name: str) -> None:
        super().__init__(manager, name)

    def publish(self, message: JobMessage, delay: float = 0.0) -> None:
        cls = job_class(message.task)
        if cls is None:
            raise UnregisteredJobError(f"no job class is registered as {message.task}")
        JobRun(self.manager, self, cls, message, sync=True).process()

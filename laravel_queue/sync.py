"""The `sync` connection (Laravel: SyncQueue): each job runs at once in the calling process,
through the same pipeline a worker uses — not Celery's `task_always_eager`, which skips it."""

from __future__ import annotations

from .connection import Connection
from .exceptions import UnregisteredJobError
from .payload import JobMessage
from .registry import job_class
from .runtime import JobRun


class SyncConnection(Connection):
    """Runs the job inside `push` (Laravel: the `sync` driver): no retries, no failed_jobs row;
    the first exception fails the job and is raised to the caller. A delay is ignored."""

    def publish(self, message: JobMessage, delay: float = 0.0) -> None:
        cls = job_class(message.task)
        if cls is None:
            raise UnregisteredJobError(f"no job class is registered as {message.task}")
        JobRun(self.manager, self, cls, message, sync=True).process()

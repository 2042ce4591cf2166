"""A queue connection: where jobs are pushed, how big its queues are, pausing them (Laravel:
the Queue contract and its drivers' common part).

`connections.celery.CeleryConnection` publishes Celery task messages through a Celery app
(one per broker URL); `runtime.sync.SyncConnection` (which needs the worker's pipeline) runs
them in the calling process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from laravel_queue import events, tracing
from laravel_queue.cache.base import CacheStore
from laravel_queue.connections.pausing import Interruptions
from laravel_queue.connections.routing import QueueRoutes
from laravel_queue.delayed.base import DelayedStore
from laravel_queue.durations import Delay, to_seconds
from laravel_queue.jobs.queueable import Queueable, require_job_instance
from laravel_queue.jobs.serialization import build_message
from laravel_queue.messages.ids import new_id
from laravel_queue.messages.inspected import InspectedJob
from laravel_queue.messages.payload import JobMessage
from laravel_queue.status.store import StatusStore


class PushRecorder(Protocol):
    """Takes pushes onto a connection instead of sending them (`Queue.fake()`)."""

    def takes(self, job: Queueable) -> bool: ...

    def record_push(
        self, job: Queueable, connection: str, queue: str, delay: float, job_id: str
    ) -> None: ...


class ConnectionHost(Protocol):
    """What a connection needs of the manager that made it (`QueueManager`, above)."""

    @property
    def default_queue(self) -> str: ...

    @property
    def max_payload_bytes(self) -> int: ...

    @property
    def dispatch_timeout(self) -> float: ...

    @property
    def push_recorder(self) -> PushRecorder | None: ...

    @property
    def cache(self) -> CacheStore: ...

    @property
    def delayed(self) -> DelayedStore: ...

    @property
    def status(self) -> StatusStore | None: ...

    @property
    def routes(self) -> QueueRoutes: ...

    def mask(self, url: str) -> str: ...


class Connection(ABC):
    """One named queue connection; the `Queue` facade forwards to the default one."""

    def __init__(self, manager: ConnectionHost, name: str) -> None:
        self.manager = manager
        self.name = name

    # -- pushing -----------------------------------------------------------------------------

    def push(
        self,
        job: Queueable,
        queue: str | None = None,
        delay: Delay | None = None,
        *,
        job_id: str | None = None,
    ) -> str:
        """Queue `job` (on `queue`, else the job's queue, else "default") under `job_id` (a new
        uuid when None); returns the uuid, which is also the job's `job_id` from now on."""
        require_job_instance(job)
        target = self._queue_for(job, queue)
        seconds = to_seconds(delay if delay is not None else job.options.delay)
        recorder = self.manager.push_recorder
        if recorder is not None and recorder.takes(job):  # Queue.fake()
            job._lq_uuid = job_id or new_id()
            recorder.record_push(job, self.name, target, seconds, job._lq_uuid)
            return job._lq_uuid
        job_id = job_id or new_id()
        with tracing.dispatching(job.display_name(), job_id, target, self.name) as trace:
            message = self._message(job, target, job_id, trace)
            if events.listened(events.JobQueueing):
                events.dispatch(events.JobQueueing(self.name, target, message.id, job, seconds))
            self.publish(message, seconds)
        self._queued([(job, message, seconds)])
        return message.id

    def _queued(self, pushed: list[tuple[Queueable, JobMessage, float]]) -> None:
        """What follows a push of `(job, message, delay)`s: their first statuses, and
        `JobQueued` for each."""
        status = self.manager.status
        if status is not None:
            status.queued(
                self.name,
                [
                    (
                        message.id,
                        job.display_name(),
                        message.queue,
                        job.options.batch_id,
                        delay,
                        message.lq.tags if message.lq else None,  # the header built with it
                    )
                    for job, message, delay in pushed
                ],
            )
        if events.listened(events.JobQueued):
            for job, message, delay in pushed:
                events.dispatch(events.JobQueued(self.name, message.queue, message.id, job, delay))

    def _message(
        self, job: Queueable, queue: str, job_id: str | None, trace: dict[str, str] | None = None
    ) -> JobMessage:
        message = build_message(
            job,
            self.name,
            queue,
            job_id or new_id(),
            self.manager.max_payload_bytes,
            trace,
        )
        job._lq_uuid = message.id
        return message

    def later(self, delay: Delay, job: Queueable, queue: str | None = None) -> str:
        return self.push(job, queue=queue, delay=delay)

    def bulk(self, jobs: Iterable[Queueable], queue: str | None = None) -> list[str]:
        return [self.push(job, queue=queue) for job in jobs]

    def _queue_for(self, job: Queueable, queue: str | None) -> str:
        return self.manager.routes.queue_for(job, queue, self.name, self.manager.default_queue)

    def queue_name(self, queue: str | None) -> str:
        """The queue an operation naming `queue` (None: the default one) acts on: itself, or
        the queue it is forwarded to (`Queue.forward`)."""
        return self.manager.routes.forwarded(queue or self.manager.default_queue, self.name)

    def _forwarded(self, message: JobMessage) -> JobMessage:
        """`message`, on the queue its own is forwarded to (a retry of a job that failed on a
        queue renamed since)."""
        queue = self.queue_name(message.queue)
        return message if queue == message.queue else replace(message, queue=queue)

    @abstractmethod
    def publish(self, message: JobMessage, delay: float = 0.0) -> None:
        """Put an already-built message on its queue (used by release and failed:retry)."""

    def publish_many(self, messages: Iterable[JobMessage]) -> None:
        """Publish already-built messages now (used by `failed:retry`)."""
        for message in messages:
            self.publish(message)

    # -- sizes (Laravel: Queue::size and friends) --------------------------------------------

    def size(self, queue: str | None = None) -> int:
        """Pending + delayed + reserved, as in Laravel."""
        return self.pending_size(queue) + self.delayed_size(queue) + self.reserved_size(queue)

    def pending_size(self, queue: str | None = None) -> int:
        return 0

    def delayed_size(self, queue: str | None = None) -> int:
        return 0

    def reserved_size(self, queue: str | None = None) -> int:
        return 0

    def pending_by_level(self, queue: str | None = None) -> dict[str, int] | None:
        """Pending jobs per priority level (`critical`, `high`, `normal`, `low`), where the
        broker can tell; None elsewhere."""
        return None

    def oldest_pending_at(self, queue: str | None = None) -> float | None:
        """When the oldest pending job was pushed (Laravel: creationTimeOfOldestPendingJob);
        None when the queue is empty or the broker cannot tell."""
        return None

    def pending_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        """The queue's next `limit` jobs, in the order workers take them (Laravel 13:
        `pendingJobs()`); none where nothing waits (`sync`)."""
        return []

    def delayed_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        """The queue's delayed jobs, the soonest due first (Laravel 13: `delayedJobs()`)."""
        return []

    def reserved_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        """The queue's jobs taken by a worker and not yet acknowledged (Laravel 13:
        `reservedJobs()`)."""
        return []

    def clear(self, queue: str | None = None) -> int:
        """Delete the queue's pending and delayed jobs; returns how many were deleted."""
        return 0

    # -- pausing (Laravel: Queue::pause, pauseFor, resume, isPaused) ---------------------------

    def pause(self, queue: str | None = None, ttl: Delay | None = None) -> None:
        """Every worker stops taking jobs from the queue within about a second, until
        `resume` or for `ttl`; running jobs finish."""
        q = self.queue_name(queue)
        seconds = to_seconds(ttl) if ttl is not None else None
        Interruptions(self.manager.cache).pause(self.name, q, seconds)
        events.dispatch(events.QueuePaused(self.name, q, seconds))

    def resume(self, queue: str | None = None) -> None:
        q = self.queue_name(queue)
        Interruptions(self.manager.cache).resume(self.name, q)
        events.dispatch(events.QueueResumed(self.name, q))

    def is_paused(self, queue: str | None = None) -> bool:
        return Interruptions(self.manager.cache).is_paused(self.name, self.queue_name(queue))

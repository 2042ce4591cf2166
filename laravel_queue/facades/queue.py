"""The `Queue` facade (Laravel: the Queue facade): the current manager's default connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from laravel_queue import events
from laravel_queue.bus.dispatcher import Dispatcher
from laravel_queue.bus.off_loop import off_the_loop
from laravel_queue.connections.base import Connection
from laravel_queue.connections.routing import JobClasses
from laravel_queue.dispatchable import Job
from laravel_queue.durations import Delay, parse_duration
from laravel_queue.manager import current_manager
from laravel_queue.messages.inspected import InspectedJob
from laravel_queue.metrics.report import MetricsReport, build_report
from laravel_queue.status.cancels import cancel_job
from laravel_queue.status.record import JobStatus
from laravel_queue.testing.matching import Expected, Predicate
from laravel_queue.testing.queue_fake import QueueFake

E = TypeVar("E")


class Queue:
    """Class-level shortcuts; `Queue.connection("rabbit")` gives the same API per connection."""

    @staticmethod
    def fake(jobs: Iterable[type[Job]] = ()) -> QueueFake:
        """Record pushed jobs (only those of `jobs`, when given) instead of sending them, on
        the current manager; `with Queue.fake() as fake:` restores the real queue after."""
        return QueueFake(current_manager(), jobs)

    # Laravel's Queue::assertPushed(...) and friends: the assertions of the active fake.

    @staticmethod
    def assert_pushed(cls: type[Job], predicate_or_times: Predicate | int | None = None) -> None:
        _queue_fake().assert_pushed(cls, predicate_or_times)

    @staticmethod
    def assert_pushed_on(queue: str, cls: type[Job], predicate: Predicate | None = None) -> None:
        _queue_fake().assert_pushed_on(queue, cls, predicate)

    @staticmethod
    def assert_pushed_times(cls: type[Job], times: int) -> None:
        _queue_fake().assert_pushed_times(cls, times)

    @staticmethod
    def assert_not_pushed(cls: type[Job], predicate: Predicate | None = None) -> None:
        _queue_fake().assert_not_pushed(cls, predicate)

    @staticmethod
    def assert_nothing_pushed() -> None:
        _queue_fake().assert_nothing_pushed()

    @staticmethod
    def assert_count(count: int) -> None:
        _queue_fake().assert_count(count)

    @staticmethod
    def assert_pushed_with_chain(cls: type[Job], chain: Sequence[Expected]) -> None:
        _queue_fake().assert_pushed_with_chain(cls, chain)

    @staticmethod
    def assert_pushed_without_chain(cls: type[Job]) -> None:
        _queue_fake().assert_pushed_without_chain(cls)

    @staticmethod
    def connection(name: str | None = None) -> Connection:
        return current_manager().connection(name)

    @staticmethod
    def push(job: Job, queue: str | None = None) -> str:
        return Dispatcher(current_manager()).push(job, queue=queue)

    @staticmethod
    def later(delay: Delay, job: Job, queue: str | None = None) -> str:
        return Dispatcher(current_manager()).push(job, queue=queue, delay=delay)

    @staticmethod
    def bulk(jobs: Iterable[Job], queue: str | None = None) -> list[str]:
        return Dispatcher(current_manager()).bulk(jobs, queue=queue)

    @staticmethod
    async def push_async(job: Job, queue: str | None = None) -> str:
        """`push()` for `async def` code: on a dispatch thread, the event loop running on."""
        return await off_the_loop(lambda: Queue.push(job, queue))

    @staticmethod
    async def later_async(delay: Delay, job: Job, queue: str | None = None) -> str:
        """`later()` for `async def` code."""
        return await off_the_loop(lambda: Queue.later(delay, job, queue))

    @staticmethod
    async def bulk_async(jobs: Iterable[Job], queue: str | None = None) -> list[str]:
        """`bulk()` for `async def` code."""
        listed = list(jobs)
        return await off_the_loop(lambda: Queue.bulk(listed, queue))

    @staticmethod
    def route(classes: JobClasses, queue: str | None = None, connection: str | None = None) -> None:
        """Send these job classes (and their subclasses) to `queue` and/or `connection`
        whenever a job names neither itself: `Queue.route(SendInvoice, queue="billing")`,
        `Queue.route([A, B], connection="redis")` (Laravel 13: `Queue::route`)."""
        current_manager().route(classes, queue, connection)

    @staticmethod
    def forward(queue: str, to: str | None = None, connection: str | None = None) -> None:
        """Rename a queue with jobs in flight: everything that names `queue` acts on `to`
        (pushes, `lq work --queue`, sizes, listing, clearing, pausing, retries), on
        `connection` only when given (Laravel 13: `Queue::forward`)."""
        current_manager().forward(queue, to, connection)

    @staticmethod
    def status(job_id: str) -> JobStatus | None:
        """Where the job is (`pending`, `delayed`, `processing`, `released`, `succeeded`,
        `failed`), with its attempts, times, last exception and progress; None for an id that
        is unknown, expired (`QueueManager(status_ttl=...)`, a day by default), malformed, or
        when tracking is off."""
        store = current_manager().status
        return store.find(job_id) if store is not None else None

    @staticmethod
    def cancel(job_id: str, terminate: bool = False) -> bool:
        """Cancel the job: one that has not run yet never runs (it ends `cancelled`, without
        `failed()`, its chain stopping there); a running one is asked to stop: within half a
        second its `self.cancelled()` turns true and its `interrupted("cancelled")` is
        called. With `terminate`, the pool process running it is killed instead (Celery's
        `revoke(terminate=True)`; prefork only). False when the job had finished already, or
        `job_id` is not a job id."""
        manager = current_manager()
        return cancel_job(manager.cancels, manager.status, job_id, terminate=terminate)

    @staticmethod
    def metrics(
        since: str | Delay = "1h",
        *,
        queue: str | None = None,
        job: str | None = None,
        tag: str | None = None,
        connection: str | None = None,
    ) -> MetricsReport:
        """What the workers ran over the last `since` (`"15m"`, `"1h"`, seconds, a
        timedelta), by job class and by queue: runs by outcome, throughput, run-time and wait
        percentiles (Horizon's metrics; `lq stats` prints the same). `tag` reads the series
        of a monitored tag (`Queue.monitor`)."""
        return build_report(
            current_manager().metrics_store,
            parse_duration(since),
            queue=queue,
            job=job,
            tag=tag,
            connection=connection,
        )

    @staticmethod
    def monitor(*tags: str) -> None:
        """Keep metrics of the jobs with these tags apart (Horizon's monitored tags); the
        workers start within five seconds. Only monitored tags get series of their own, so
        tags made of ids cost nothing until someone wants to watch one."""
        store = current_manager().metrics_store
        for tag in tags:
            store.monitor(tag)

    @staticmethod
    def stop_monitoring(*tags: str) -> None:
        store = current_manager().metrics_store
        for tag in tags:
            store.stop_monitoring(tag)

    @staticmethod
    def monitored_tags() -> set[str]:
        return current_manager().metrics_store.monitored()

    @staticmethod
    def size(queue: str | None = None) -> int:
        return Queue.connection().size(queue)

    @staticmethod
    def pending_size(queue: str | None = None) -> int:
        return Queue.connection().pending_size(queue)

    @staticmethod
    def delayed_size(queue: str | None = None) -> int:
        return Queue.connection().delayed_size(queue)

    @staticmethod
    def reserved_size(queue: str | None = None) -> int:
        return Queue.connection().reserved_size(queue)

    @staticmethod
    def pending(queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        """The queue's next `limit` jobs, in the order workers take them, left where they
        are (Laravel 13: `Queue::pendingJobs()`). On RabbitMQ, `NotInspectableError`: AMQP
        cannot show a queued message without taking it."""
        return Queue.connection().pending_jobs(queue, limit)

    @staticmethod
    def delayed(queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        """The queue's delayed jobs, the soonest due first (Laravel 13: `delayedJobs()`),
        on every broker."""
        return Queue.connection().delayed_jobs(queue, limit)

    @staticmethod
    def reserved(queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        """The queue's jobs a worker has taken and not yet acknowledged (Laravel 13:
        `reservedJobs()`); `NotInspectableError` on RabbitMQ."""
        return Queue.connection().reserved_jobs(queue, limit)

    @staticmethod
    def clear(queue: str | None = None) -> int:
        return Queue.connection().clear(queue)

    # -- pausing (Laravel: Queue::pause, pauseFor, resume, isPaused) ---------------------------

    @staticmethod
    def pause(queue: str | None = None, ttl: Delay | None = None) -> None:
        Queue.connection().pause(queue, ttl)

    @staticmethod
    def resume(queue: str | None = None) -> None:
        Queue.connection().resume(queue)

    @staticmethod
    def is_paused(queue: str | None = None) -> bool:
        return Queue.connection().is_paused(queue)

    # -- events (Laravel: Queue::before, after, failing, ...) --------------------------------

    @staticmethod
    def listen(event: type[E], listener: Callable[[E], Any]) -> Callable[[E], Any]:
        return events.listeners.listen(event, listener)

    @staticmethod
    def before(
        listener: Callable[[events.JobProcessing], Any],
    ) -> Callable[[events.JobProcessing], Any]:
        return events.listeners.listen(events.JobProcessing, listener)

    @staticmethod
    def after(
        listener: Callable[[events.JobProcessed], Any],
    ) -> Callable[[events.JobProcessed], Any]:
        return events.listeners.listen(events.JobProcessed, listener)

    @staticmethod
    def failing(listener: Callable[[events.JobFailed], Any]) -> Callable[[events.JobFailed], Any]:
        return events.listeners.listen(events.JobFailed, listener)

    @staticmethod
    def exception_occurred(
        listener: Callable[[events.JobExceptionOccurred], Any],
    ) -> Callable[[events.JobExceptionOccurred], Any]:
        return events.listeners.listen(events.JobExceptionOccurred, listener)

    @staticmethod
    def looping(listener: Callable[[events.Looping], Any]) -> Callable[[events.Looping], Any]:
        """Return False from the listener to hold the worker's queues until its next poll."""
        return events.listeners.listen(events.Looping, listener)

    @staticmethod
    def starting(
        listener: Callable[[events.WorkerStarting], Any],
    ) -> Callable[[events.WorkerStarting], Any]:
        return events.listeners.listen(events.WorkerStarting, listener)

    @staticmethod
    def stopping(
        listener: Callable[[events.WorkerStopping], Any],
    ) -> Callable[[events.WorkerStopping], Any]:
        return events.listeners.listen(events.WorkerStopping, listener)


def _queue_fake() -> QueueFake:
    recorder = current_manager().push_recorder
    if not isinstance(recorder, QueueFake):
        raise AssertionError("Queue.assert_*() needs Queue.fake() first (no fake is active)")
    return recorder

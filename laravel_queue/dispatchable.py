"""`Job`: the class users subclass (Laravel: a ShouldQueue class with the Dispatchable,
Queueable, InteractsWithQueue and Batchable traits), and each subclass a Celery task.

`jobs.queueable.Queueable` is what the queue needs of a job (options, state, `handle()`,
release/fail/delete); `Job` adds what reaches the layers above it — dispatching through the
bus, chains, its batch, the manager running it — so it sits above the bus and the manager
and nothing below them knows it. Subclassing `Job` records the class (`jobs.registry`) and
makes it a Celery task named after its dotted path (`celery_app.task.add_task`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeAlias, TypeVar, overload

from laravel_queue.bus.batch import Batch
from laravel_queue.bus.debounce import class_debounce
from laravel_queue.bus.dispatcher import Dispatcher
from laravel_queue.bus.off_loop import off_the_loop
from laravel_queue.celery_app.task import add_task
from laravel_queue.jobs import registry
from laravel_queue.jobs.queueable import JobMiddleware, Queueable
from laravel_queue.jobs.serialization import ChainItem, link_for
from laravel_queue.manager import QueueManager, current_manager
from laravel_queue.messages.payload import ChainState
from laravel_queue.messages.priorities import checked_level
from laravel_queue.testing.fake_batch import FakeBatch

J = TypeVar("J", bound="Job")
R = TypeVar("R")

Next = Callable[["Job"], Any]
"""What a middleware calls to go on: `next(job)` runs the rest of the pipeline (an async
middleware awaits it: `await next(job)`)."""

Middleware: TypeAlias = 'JobMiddleware["Job"]'
"""A job middleware: any object with `handle(job, next)` (Laravel: a job middleware class)."""


class _ClassOrInstance(Generic[R]):
    """A method usable on the class (`Job.dispatch(42)`) and on an instance (`job.dispatch()`)."""

    def __init__(self, on_class: Callable[..., R], on_instance: Callable[..., R]) -> None:
        self.on_class = on_class
        self.on_instance = on_instance

    @overload
    def __get__(self, obj: None, owner: type[Job]) -> Callable[..., R]: ...
    @overload
    def __get__(self, obj: Job, owner: type[Job]) -> Callable[..., R]: ...
    def __get__(self, obj: Job | None, owner: type[Job]) -> Callable[..., R]:
        if obj is None:
            return lambda *args, **kwargs: self.on_class(owner, *args, **kwargs)
        return lambda *args, **kwargs: self.on_instance(obj, *args, **kwargs)


def _dispatch_cls(cls: type[Job], *args: Any, **kwargs: Any) -> str | None:
    return cls(*args, **kwargs).dispatch()


def _dispatch_job(job: Job) -> str | None:
    return Dispatcher(current_manager()).dispatch(job)


def _dispatch_sync_cls(cls: type[Job], *args: Any, **kwargs: Any) -> str | None:
    return cls(*args, **kwargs).dispatch_sync()


def _dispatch_sync_job(job: Job) -> str | None:
    return Dispatcher(current_manager()).dispatch_sync(job)


def _dispatch_if_cls(cls: type[Job], condition: Any, *args: Any, **kwargs: Any) -> str | None:
    return cls(*args, **kwargs).dispatch_if(condition)


def _dispatch_if_job(job: Job, condition: Any) -> str | None:
    if callable(condition):
        condition = condition(job)
    return job.dispatch() if condition else None


def _dispatch_unless_cls(cls: type[Job], condition: Any, *args: Any, **kwargs: Any) -> str | None:
    return cls(*args, **kwargs).dispatch_unless(condition)


def _dispatch_unless_job(job: Job, condition: Any) -> str | None:
    if callable(condition):
        condition = condition(job)
    return None if condition else job.dispatch()


def _dispatch_async_cls(cls: type[Job], *args: Any, **kwargs: Any) -> Awaitable[str | None]:
    return cls(*args, **kwargs).dispatch_async()


def _dispatch_async_job(job: Job) -> Awaitable[str | None]:
    return off_the_loop(job.dispatch)


class Job(Queueable):
    """Base class of queued jobs (Laravel: a class implementing ShouldQueue + Queueable)."""

    _lq_fake_batch: FakeBatch | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        class_debounce(cls)  # a bad debounce setting is refused at import
        checked_level(cls.priority, f"{cls.__qualname__}.priority")
        registry.register(cls)
        add_task(cls)

    def middleware(self) -> list[Middleware]:
        """Middleware the job passes through, outermost first (`handle(job, next)` objects)."""
        return []

    # -- the manager (Laravel: the container the job was resolved from) ----------------------

    @property
    def manager(self) -> QueueManager:
        """The manager running this job in a worker, else the current one: middleware and
        jobs reach the stores through it, so a worker never mixes up two managers."""
        running = getattr(self._lq_run, "manager", None)
        return running if isinstance(running, QueueManager) else current_manager()

    @property
    def run_timeout(self) -> float:
        """Seconds this run may take (0 = no limit): the job's `timeout`, else the worker's."""
        if self._lq_run is not None:
            return self._lq_run.timeout
        return float(self.manager.worker_options.timeout if self.timeout is None else self.timeout)

    # -- chains (Laravel: Queueable's chain, prependToChain, appendToChain) -----------------

    def chain(self: J, jobs: Iterable[ChainItem]) -> J:
        """Run `jobs` one after the other once this job has succeeded: `job.chain([B(),
        C()]).dispatch()` is `Bus.chain([job, B(), C()]).dispatch()`."""
        self.options.chain = ChainState(links=[link_for(item) for item in jobs])
        return self

    def prepend_to_chain(self, job: ChainItem) -> None:
        """From `handle()`: run `job` right after this one, before the rest of the chain."""
        self._chain_state().links.insert(0, link_for(job))

    def append_to_chain(self, job: ChainItem) -> None:
        """From `handle()`: run `job` after the last job of the chain."""
        self._chain_state().links.append(link_for(job))

    def _chain_state(self) -> ChainState:
        if self.options.chain is None:
            self.options.chain = ChainState()
        return self.options.chain

    # -- batches (Laravel: Batchable) ---------------------------------------------------------

    def batch(self) -> Batch | None:
        """The batch this job belongs to, read now (None outside a batch)."""
        if self._lq_fake_batch is not None:
            return self._lq_fake_batch
        batch_id = self.options.batch_id
        return Batch.find(self.manager, batch_id) if batch_id else None

    def with_fake_batch(self: J, name: str = "", total: int = 1) -> tuple[J, FakeBatch]:
        """Put the job in a batch that lives in memory: `self.batch()` returns it, and what
        `handle()` does to it (`add`, `cancel`, `delete`) is recorded on it (Laravel:
        withFakeBatch)."""
        self._lq_fake_batch = FakeBatch.new(self.manager, name, total)
        self.options.batch_id = self._lq_fake_batch.id
        return self, self._lq_fake_batch

    # -- dispatching (Laravel: Dispatchable + PendingDispatch) -------------------------------

    dispatch = _ClassOrInstance[str | None](_dispatch_cls, _dispatch_job)
    """Push the job: `Cls.dispatch(*args)` or `job.dispatch()`; returns its uuid, or None
    when a unique job (`ShouldBeUnique`) with the same key is already queued."""
    dispatch_sync = _ClassOrInstance[str | None](_dispatch_sync_cls, _dispatch_sync_job)
    """Run the job now, in this process, through the whole pipeline."""
    dispatch_async = _ClassOrInstance[Awaitable[str | None]](
        _dispatch_async_cls, _dispatch_async_job
    )
    """`dispatch()` for `async def` code: `await Cls.dispatch_async(*args)` pushes the job on
    a dispatch thread while the event loop runs on (`bus.off_loop`)."""
    dispatch_if = _ClassOrInstance[str | None](_dispatch_if_cls, _dispatch_if_job)
    dispatch_unless = _ClassOrInstance[str | None](_dispatch_unless_cls, _dispatch_unless_job)

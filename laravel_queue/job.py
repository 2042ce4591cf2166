"""`Job`: a Laravel-style job class that runs as a Celery task (DESIGN §3.2, §3.3).

Subclassing `Job` registers a Celery task named after the class's dotted path. The instance's
public attributes are the job's state; options (`queue`, `tries`, `backoff`, ...) live on the
class or are set through the fluent methods, never among the job's own arguments.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast, overload

from . import registry
from .batches import Batch
from .bus import Bus
from .chain import ChainItem, link_for
from .durations import Delay
from .encoding import decode_value, encode_value
from .exceptions import JobEncodeError
from .fake_job import FakeQueueAssertions, FakeQueueJob
from .manager import QueueManager, current_manager
from .payload import ChainState
from .testing.fake_batch import FakeBatch

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .middleware.base import Middleware
    from .runtime import JobRun

# Class attributes that configure a job; they travel in the `lq` header, not in the state.
OPTION_NAMES = frozenset(
    {"queue", "connection", "tries", "backoff", "timeout", "max_exceptions", "fail_on_timeout"}
)

J = TypeVar("J", bound="Job")
R = TypeVar("R")


@dataclass
class DispatchOptions:
    """Per-dispatch choices made with the fluent methods (Laravel: PendingDispatch)."""

    queue: str | None = None
    connection: str | None = None
    delay: Delay | None = None
    after_commit: Session | None = None
    chain: ChainState | None = None
    """The jobs to run after this one (`job.chain([...])`, `Bus.chain`, and in a worker the
    rest of the chain this job belongs to)."""
    batch_id: str | None = None
    """The batch the job belongs to (set by `Bus.batch`; in a worker, from its header)."""
    batch_index: int | None = None
    """Its place in the batch (Celery's `group_index`)."""
    batch_progress: bool = False
    """The batch has `progress` callbacks: the job counts its own success, so they fire in
    order, right after it (other batched jobs leave that to the worker's main process)."""


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
    return Bus.dispatch(job)


def _dispatch_sync_cls(cls: type[Job], *args: Any, **kwargs: Any) -> str | None:
    return cls(*args, **kwargs).dispatch_sync()


def _dispatch_sync_job(job: Job) -> str | None:
    return Bus.dispatch_sync(job)


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


class Job(FakeQueueAssertions):
    """Base class of queued jobs (Laravel: a class implementing ShouldQueue + Queueable)."""

    queue: ClassVar[str | None] = None
    """Default queue; None means the connection's default queue ("default")."""
    connection: ClassVar[str | None] = None
    """Default connection name; None means the manager's default connection."""
    tries: ClassVar[int | None] = None
    """Reservations allowed; 0 = unlimited; None = the worker's `--tries` (default 1)."""
    backoff: ClassVar[int | list[int] | None] = None
    """Seconds before an automatic retry after an exception; a list is indexed by attempt."""
    timeout: ClassVar[float | None] = None
    """Seconds a run may take; 0 = no limit; None = the worker's `--timeout` (default 60)."""
    max_exceptions: ClassVar[int | None] = None
    """Fail after this many unhandled exceptions, whatever `tries` allows."""
    fail_on_timeout: ClassVar[bool] = False
    """Fail at the first timeout instead of retrying."""

    _lq_run: JobRun | None = None
    _lq_uuid: str | None = None
    _lq_options: DispatchOptions | None = None
    _lq_fake_batch: FakeBatch | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry.register(cls)

    # -- what a subclass defines ------------------------------------------------------------

    def handle(self) -> None:
        """The work. Raising retries the job (with `backoff`) until `tries` run out."""
        raise NotImplementedError(f"{type(self).__qualname__} must define handle()")

    def failed(self, exc: BaseException) -> None:
        """Called once, on a freshly decoded instance, when the job fails for good."""

    def middleware(self) -> list[Middleware]:
        """Middleware the job passes through, outermost first (`handle(job, next)` objects)."""
        return []

    def retry_until(self) -> datetime | None:
        """A deadline after which the job is not retried; when set it replaces `tries`."""
        return None

    @classmethod
    def display_name(cls) -> str:
        """The job's name in messages, Flower and `lq failed` (its dotted path)."""
        return registry.task_name(cls)

    # -- inside handle() (Laravel: InteractsWithQueue) ---------------------------------------

    @property
    def job_id(self) -> str:
        """The job's uuid, stable across releases and retries (`failed_jobs.uuid`)."""
        if self._lq_uuid is None:
            self._lq_uuid = str(uuid.uuid4())
        return self._lq_uuid

    @property
    def queue_job(self) -> JobRun | None:
        """The reservation running this job, None outside a worker (Laravel: `$this->job`)."""
        return self._lq_run

    @property
    def manager(self) -> QueueManager:
        """The manager running this job in a worker, else the current one: middleware and
        jobs reach the stores through it, so a worker never mixes up two managers."""
        return self._lq_run.manager if self._lq_run is not None else current_manager()

    @property
    def run_timeout(self) -> float:
        """Seconds this run may take (0 = no limit): the job's `timeout`, else the worker's."""
        if self._lq_run is not None:
            return self._lq_run.timeout
        return float(self.manager.worker_options.timeout if self.timeout is None else self.timeout)

    def attempts(self) -> int:
        """1-based count of reservations, the current one included; 1 outside a worker."""
        return self._lq_run.attempts if self._lq_run else 1

    def release(self, delay: Delay = 0, *, count_attempt: bool = True) -> None:
        """Put the job back on its queue after `delay`; this reservation counts as an attempt
        (Laravel's rule) unless `count_attempt=False` (DESIGN §9.2)."""
        if self._lq_run is not None:
            self._lq_run.release(delay, count_attempt=count_attempt)

    def fail(self, exc: BaseException | str | None = None) -> None:
        """Fail the job now: `failed()` runs, a `failed_jobs` row is written, no retry."""
        if self._lq_run is not None:
            self._lq_run.fail(exc)

    def delete(self) -> None:
        """Remove the job without failing it; counts as done."""
        if self._lq_run is not None:
            self._lq_run.delete()

    def with_fake_batch(self: J, name: str = "", total: int = 1) -> tuple[J, FakeBatch]:
        """Put the job in a batch that lives in memory: `self.batch()` returns it, and what
        `handle()` does to it (`add`, `cancel`, `delete`) is recorded on it (Laravel:
        withFakeBatch)."""
        self._lq_fake_batch = FakeBatch.new(self.manager, name, total)
        self.options.batch_id = self._lq_fake_batch.id
        return self, self._lq_fake_batch

    def with_fake_queue_interactions(self: J) -> J:
        """Record `release`, `fail` and `delete` instead of doing them, so `job.handle()` can
        be called in a test and checked with `assert_released()` and friends (Laravel:
        withFakeQueueInteractions)."""
        self._lq_run = cast("JobRun", FakeQueueJob(current_manager))
        return self

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

    # -- dispatching (Laravel: Dispatchable + PendingDispatch) -------------------------------

    dispatch = _ClassOrInstance[str | None](_dispatch_cls, _dispatch_job)
    """Push the job: `Cls.dispatch(*args)` or `job.dispatch()`; returns its uuid, or None
    when a unique job (`ShouldBeUnique`) with the same key is already queued."""
    dispatch_sync = _ClassOrInstance[str | None](_dispatch_sync_cls, _dispatch_sync_job)
    """Run the job now, in this process, through the whole pipeline."""
    dispatch_if = _ClassOrInstance[str | None](_dispatch_if_cls, _dispatch_if_job)
    dispatch_unless = _ClassOrInstance[str | None](_dispatch_unless_cls, _dispatch_unless_job)

    @property
    def options(self) -> DispatchOptions:
        if self._lq_options is None:
            self._lq_options = DispatchOptions()
        return self._lq_options

    def on_queue(self: J, queue: str) -> J:
        self.options.queue = queue
        return self

    def on_connection(self: J, connection: str) -> J:
        self.options.connection = connection
        return self

    def delay(self: J, delay: Delay) -> J:
        """Make the job available only after `delay` (seconds, timedelta or datetime)."""
        self.options.delay = delay
        return self

    def after_commit(self: J, session: Session) -> J:
        """Push only once `session` commits; a rollback discards the job (Laravel: afterCommit)."""
        self.options.after_commit = session
        return self

    # -- state -------------------------------------------------------------------------------

    def encode_state(self) -> dict[str, Any]:
        """The JSON-ready state; raises `JobEncodeError` naming an attribute that cannot go."""
        state = _get_state(self)
        name = type(self).__qualname__
        return {key: encode_value(value, f"{name}.{key}") for key, value in state.items()}

    @classmethod
    def from_state(cls: type[J], state: dict[str, Any]) -> J:
        """Rebuild a job from `encode_state()` output without calling `__init__`."""
        job = cls.__new__(cls)
        decoded = {key: decode_value(value) for key, value in state.items()}
        setstate = getattr(job, "__setstate__", None)
        if _overrides(cls, "__setstate__") and setstate is not None:
            setstate(decoded)
        else:
            job.__dict__.update(decoded)
        return job


def _overrides(cls: type, name: str) -> bool:
    return getattr(cls, name, None) is not getattr(object, name, None)


def _get_state(job: Job) -> dict[str, Any]:
    if _overrides(type(job), "__getstate__"):
        state = getattr(job, "__getstate__")()  # noqa: B009 - mypy: not on every Python
        if not isinstance(state, dict):
            raise JobEncodeError(f"{type(job).__qualname__}.__getstate__ must return a dict")
        return state
    return {
        key: value
        for key, value in vars(job).items()
        if not key.startswith("_") and key not in OPTION_NAMES
    }

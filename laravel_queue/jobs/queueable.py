"""`Queueable`: what the queue needs of a job (Laravel: the Queueable and InteractsWithQueue
traits of a ShouldQueue class).

Its options (`queue`, `tries`, `backoff`, ...) live on the class or are set through the
fluent methods, never among the job's own arguments; its public attributes are its state.
Everything below the manager (connections, the bus, the runtime, the events) knows a job as
a `Queueable`; the `Job` users subclass (`laravel_queue.dispatchable`, named after Laravel's
Dispatchable trait) adds what reaches the bus and the manager: dispatching, chains, its batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from laravel_queue.durations import Delay, to_seconds
from laravel_queue.exceptions import ConfigurationError, JobEncodeError
from laravel_queue.jobs.interactions import FakeQueueAssertions, FakeQueueJob, QueueInteractions
from laravel_queue.jobs.options import AfterCommit, Debounce, DispatchOptions
from laravel_queue.messages.encoding import decode_value, encode_value
from laravel_queue.messages.ids import new_id
from laravel_queue.messages.model_keys import model_key, orm_of
from laravel_queue.messages.priorities import checked_level

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Class attributes that configure a job; they travel in the `lq` header, not in the state.
OPTION_NAMES = frozenset(
    {
        "queue",
        "connection",
        "tries",
        "backoff",
        "timeout",
        "max_exceptions",
        "fail_on_timeout",
        "debounce_for",
        "debounce_max_wait",
        "priority",
        "delete_when_missing_models",
    }
)

Q = TypeVar("Q", bound="Queueable")
JobT = TypeVar("JobT")


class JobMiddleware(Protocol[JobT]):
    """A middleware of jobs of type `JobT`: `handle(job, next)`, wrap-around like Laravel's
    pipeline; call `next(job)` to continue, or return to end the job as done (Laravel's
    rule). Users write `laravel_queue.middleware.Middleware`, this for a `Job`."""

    def handle(self, job: JobT, next: Callable[[JobT], Any]) -> Any: ...


class Queueable(FakeQueueAssertions):
    """A job as the queue sees it: options, state, `handle()`, and what it may ask of the
    reservation running it. Subclass `laravel_queue.Job`, not this class."""

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
    priority: ClassVar[str | None] = None
    """`critical`, `high`, `normal` (None means normal) or `low`: within one queue, a worker
    takes critical jobs first, then high, normal, low; first in, first out within a level."""
    debounce_for: ClassVar[float | None] = None
    """Seconds: of a burst of dispatches with the same `debounce_id()`, only the last runs,
    this long after it (Laravel 13: `#[DebounceFor]`)."""
    debounce_max_wait: ClassVar[float | None] = None
    """Seconds after a burst's first dispatch when the next one runs at once, however the
    burst goes on (Laravel 13: `#[DebounceFor(..., maxWait: ...)]`)."""

    delete_when_missing_models: ClassVar[bool] = False
    """A model the job carries no longer exists when it runs: end the job quietly, as
    deleted, instead of failing it with `ModelNotFoundError` (Laravel:
    `$deleteWhenMissingModels`)."""

    _lq_run: QueueInteractions | None = None
    _lq_uuid: str | None = None
    _lq_options: DispatchOptions | None = None

    # -- what a subclass defines ------------------------------------------------------------

    def handle(self) -> Awaitable[None] | None:
        """The work. Raising retries the job (with `backoff`) until `tries` run out. May be
        `async def`: it then runs on the worker process's event loop."""
        raise NotImplementedError(f"{type(self).__qualname__} must define handle()")

    def failed(self, exc: BaseException) -> Awaitable[None] | None:
        """Called once, on a freshly decoded instance, when the job fails for good (may be
        `async def`)."""

    def middleware(self) -> Sequence[JobMiddleware[Any]]:
        """Middleware the job passes through, outermost first (`handle(job, next)` objects)."""
        return []

    def prepare_for_dispatch(self) -> bool | None:
        """Called by `dispatch()` (and each dispatch of a chain's jobs or by the scheduler)
        before anything else, in the dispatching process: the last moment to adjust the job,
        or to return False to drop this dispatch silently — nothing is queued, no unique lock
        is taken, no event fires, and `dispatch()` returns None (Laravel 13:
        `PreparesForDispatch`). `Queue.push`/`bulk` and `dispatch_sync` do not call it."""
        return None

    def debounce_id(self) -> object:
        """What makes two dispatches the same burst for debouncing; "" (the default) means
        every dispatch of the class (Laravel 13: `debounceId()`)."""
        return ""

    def retry_until(self) -> datetime | None:
        """A deadline after which the job is not retried; when set it replaces `tries`."""
        return None

    def tags(self) -> list[str]:
        """What the job is about, for filtering metrics, failed jobs and statuses (Horizon's
        tags): by default `Class:id` for each attribute holding an object with an `id` or a
        `pk` (a model, a dataclass with an id), and for each such object in a list."""
        return model_tags(self)

    @classmethod
    def display_name(cls) -> str:
        """The job's name in messages, Flower and `lq failed` (its dotted path)."""
        return task_name(cls)

    # -- inside handle() (Laravel: InteractsWithQueue) ---------------------------------------

    @property
    def job_id(self) -> str:
        """The job's uuid, stable across releases and retries (`failed_jobs.uuid`)."""
        if self._lq_uuid is None:
            self._lq_uuid = new_id()
        return self._lq_uuid

    @property
    def queue_job(self) -> QueueInteractions | None:
        """The reservation running this job, None outside a worker (Laravel: `$this->job`)."""
        return self._lq_run

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

    def progress(self, current: float, total: float | None = None, message: str = "") -> None:
        """Say how far `handle()` has come (`self.progress(420, 1000, "rows")`): seen by
        `Queue.status(job_id).progress` and `JobProgressed` listeners. Call it as often as
        you like: the store is written at most every quarter second, and always with the
        last value. Nothing happens outside a worker."""
        if self._lq_run is not None:
            self._lq_run.progress(current, total, message)

    def cancelled(self) -> bool:
        """Whether the job was cancelled (`Queue.cancel`) while it runs: a long `handle()`
        checks it now and then and stops (or `release()`s itself to go on later). It turns
        true within half a second of the cancel; always false outside a worker."""
        return self._lq_run.cancelled() if self._lq_run is not None else False

    def with_fake_queue_interactions(self: Q) -> Q:
        """Record `release`, `fail` and `delete` instead of doing them, so `job.handle()` can
        be called in a test and checked with `assert_released()` and friends (Laravel:
        withFakeQueueInteractions)."""
        self._lq_run = FakeQueueJob()
        return self

    # -- per-dispatch options (Laravel: Queueable's onQueue, onConnection, delay) ------------

    @property
    def options(self) -> DispatchOptions:
        if self._lq_options is None:
            self._lq_options = DispatchOptions()
        return self._lq_options

    def on_queue(self: Q, queue: str) -> Q:
        self.options.queue = queue
        return self

    def on_connection(self: Q, connection: str) -> Q:
        self.options.connection = connection
        return self

    def on_priority(self: Q, level: str) -> Q:
        """This dispatch's priority level (see `priority`), whatever the class says."""
        self.options.priority = checked_level(level, f"{type(self).__qualname__}.on_priority()")
        return self

    def delay(self: Q, delay: Delay) -> Q:
        """Make the job available only after `delay` (seconds, timedelta or datetime)."""
        self.options.delay = delay
        return self

    def debounce(self: Q, seconds: Delay, max_wait: Delay | None = None) -> Q:
        """Debounce this dispatch (see `debounce_for`), whatever the class says."""
        self.options.debounce = debounce_options(seconds, max_wait, type(self).__qualname__)
        return self

    def after_commit(self: Q, session: Session | None = None, *, using: str | None = None) -> Q:
        """Push only once the transaction commits; a rollback discards the job (Laravel:
        afterCommit). `session`: a SQLAlchemy session; without one, Django's transaction
        (`transaction.on_commit`) on the `using` database. Outside a transaction the job is
        pushed at once."""
        self.options.after_commit = AfterCommit(session, using)
        return self

    # -- state -------------------------------------------------------------------------------

    def encode_state(self) -> dict[str, Any]:
        """The JSON-ready state; raises `JobEncodeError` naming an attribute that cannot go."""
        state = _get_state(self)
        name = type(self).__qualname__
        return {key: encode_value(value, f"{name}.{key}") for key, value in state.items()}

    @classmethod
    def from_state(
        cls: type[Q],
        state: dict[str, Any],
        restore: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Q:
        """Rebuild a job from `encode_state()` output without calling `__init__`; `restore`
        turns the decoded state's model keys into rows (`jobs.models`), else they stay keys."""
        job = cls.__new__(cls)
        decoded = {key: decode_value(value) for key, value in state.items()}
        if restore is not None:
            decoded = restore(decoded)
        setstate = getattr(job, "__setstate__", None)
        if _overrides(cls, "__setstate__") and setstate is not None:
            setstate(decoded)
        else:
            job.__dict__.update(decoded)
        return job


_PLAIN = (str, int, float, bool, type(None), dict, bytes)


def model_tags(job: object) -> list[str]:
    """Horizon's tags: `shop.models.Podcast:42` for each SQLAlchemy or Django model among
    `job`'s public attributes (or in a list or tuple of them), `Class:id` for any other
    object with an `id` or a `pk`; plain values are skipped at once, so a job with none
    costs a loop."""
    tags: list[str] = []
    for name, value in vars(job).items():
        if name.startswith("_") or isinstance(value, _PLAIN):
            continue
        items = value if isinstance(value, (list, tuple)) else (value,)
        for item in items:
            if isinstance(item, _PLAIN):
                break  # a list of plain values: none of it is a model
            tag = _tag_of(item)
            if tag:
                tags.append(tag)
    return tags


def _tag_of(item: object) -> str | None:
    orm = orm_of(item)
    if orm is not None:
        try:
            found = model_key(item, orm, "")
        except JobEncodeError:
            return None  # not saved: dispatch refuses it with the reason
        key = found.key
        return f"{found.dotted}:{','.join(map(str, key)) if isinstance(key, tuple) else key}"
    key = getattr(item, "pk", None)
    if key is None:
        key = getattr(item, "id", None)
    if isinstance(key, (int, str)) and not isinstance(key, bool):
        return f"{type(item).__name__}:{key}"
    return None


def debounce_options(seconds: Delay, max_wait: Delay | None, name: str) -> Debounce:
    """`Debounce(seconds, max_wait)`, refused with a clear message when it cannot work."""
    wait = to_seconds(seconds)
    longest = to_seconds(max_wait) if max_wait is not None else None
    if wait <= 0:
        raise ConfigurationError(f"{name}: debounce_for must be over 0 seconds, got {seconds!r}")
    if longest is not None and longest < wait:
        raise ConfigurationError(
            f"{name}: debounce_max_wait ({longest:g} s) is shorter than debounce_for "
            f"({wait:g} s); a run could never wait its debounce"
        )
    return Debounce(wait, longest)


def task_name(cls: type) -> str:
    """The name a job class travels under: its dotted path."""
    return f"{cls.__module__}.{cls.__qualname__}"


def require_job_instance(job: object, taker: str = "push()") -> Queueable:
    """`job`, which must be a job *instance*: a class or a task name is the first mistake a
    newcomer makes, and the error says what to pass instead."""
    if isinstance(job, type) and issubclass(job, Queueable):
        raise TypeError(
            f"{taker} takes a job instance, got the class {job.__name__}; pass "
            f"{job.__name__}(...) or call {job.__name__}.dispatch(...)"
        )
    if not isinstance(job, Queueable):
        raise TypeError(
            f"{taker} takes a job instance (a laravel_queue.Job), got {job!r:.80}; "
            "build the job first, e.g. SendInvoice(1042)"
        )
    return job


def _overrides(cls: type, name: str) -> bool:
    return getattr(cls, name, None) is not getattr(object, name, None)


def _get_state(job: Queueable) -> dict[str, Any]:
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

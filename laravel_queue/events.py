"""Laravel's queue events (Illuminate\\Queue\\Events) and the listener registry.

Listen with `Queue.listen(JobFailed, fn)` or the shortcuts (`Queue.failing(fn)`, ...), or
connect to the Celery-style signal of the same name in `laravel_queue.signals`. Listeners are
process-global, like Laravel's event dispatcher: register them at import time of your app
module and they run in every worker process. A listener that raises is logged and ignored,
so it can never break a job or a worker (DESIGN §9.7).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .worker_options import WorkerOptions

if TYPE_CHECKING:
    from .batches import Batch
    from .failed.records import FailedJob
    from .job import Job
    from .payload import JobMessage

logger = logging.getLogger("laravel_queue.events")


class QueueJob(Protocol):
    """What listeners get as `event.job` while a job runs (Laravel: the queue's `Job`): one
    reservation of one message, the runtime's `JobRun`."""

    attempts: int
    message: JobMessage
    instance: Job | None

    @property
    def job_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def connection_name(self) -> str: ...


@dataclass(frozen=True)
class Event:
    """Base of every event; `connection_name` is the queue connection it happened on."""

    connection_name: str


@dataclass(frozen=True)
class JobQueued(Event):
    queue: str
    id: str
    job: Job
    delay: float = 0.0


@dataclass(frozen=True)
class JobProcessing(Event):
    job: QueueJob


@dataclass(frozen=True)
class JobProcessed(Event):
    job: QueueJob


@dataclass(frozen=True)
class JobExceptionOccurred(Event):
    job: QueueJob
    exception: BaseException


@dataclass(frozen=True)
class JobReleasedAfterException(Event):
    job: QueueJob
    backoff: float


@dataclass(frozen=True)
class JobFailed(Event):
    job: QueueJob
    exception: BaseException


@dataclass(frozen=True)
class JobAttempted(Event):
    job: QueueJob
    exception_occurred: bool


@dataclass(frozen=True)
class JobTimedOut(Event):
    job: QueueJob


# The events of one reservation, fired in the process that runs the job.
JOB_EVENTS: tuple[type[Event], ...] = (
    JobProcessing,
    JobProcessed,
    JobExceptionOccurred,
    JobReleasedAfterException,
    JobFailed,
    JobAttempted,
    JobTimedOut,
)


@dataclass(frozen=True)
class JobRetryRequested:
    job: FailedJob  # the record being retried


@dataclass(frozen=True)
class WorkerStarting(Event):
    queue: str
    options: WorkerOptions


@dataclass(frozen=True)
class WorkerStopping:
    status: int
    options: WorkerOptions
    reason: str = ""


@dataclass(frozen=True)
class Looping(Event):
    """Fired by each worker every time it polls its pause and restart flags (about twice a
    second); a listener that returns False holds the worker's queues until the next poll."""

    queue: str


@dataclass(frozen=True)
class QueueBusy:
    """`lq queue:monitor` found `size` >= `--max` jobs on the queue."""

    connection: str
    queue: str
    size: int


@dataclass(frozen=True)
class QueuePaused:
    connection: str
    queue: str
    ttl: float | None = None


@dataclass(frozen=True)
class QueueResumed:
    connection: str
    queue: str


@dataclass(frozen=True)
class BatchDispatched:
    batch: Batch


@dataclass(frozen=True)
class BatchFinished:
    """Every job of the batch has run once, succeeded or failed (when `finally` runs)."""

    batch: Batch


@dataclass(frozen=True)
class BatchCanceled:
    batch: Batch


E = TypeVar("E")
Listener = Callable[[Any], Any]


@dataclass
class Listeners:
    """The listeners of each event class, called for an event of it or of a subclass
    (Laravel's events `Dispatcher`; `dispatch()` below is what fires an event)."""

    listeners: dict[type, list[Listener]] = field(default_factory=lambda: defaultdict(list))

    def listen(self, event: type[E], listener: Callable[[E], Any]) -> Callable[[E], Any]:
        self.listeners[event].append(listener)
        return listener

    def forget(self, event: type, listener: Listener | None = None) -> None:
        if listener is None:
            self.listeners.pop(event, None)
        elif listener in self.listeners.get(event, []):
            self.listeners[event].remove(listener)

    def dispatch(self, event: object) -> None:
        self.until(event)

    def until(self, event: object) -> object:
        """Call every listener; the first answer that is not None (Laravel's `until`, which
        the worker reads for `Looping`: False holds it)."""
        answer = None
        for cls in type(event).__mro__:
            for listener in self.listeners.get(cls, ()):
                try:
                    result = listener(event)
                except Exception:
                    logger.exception("listener %r of %s raised; ignored", listener, cls.__name__)
                    continue
                if answer is None:
                    answer = result
        return answer


listeners = Listeners()

# Where every event goes besides its listeners: `laravel_queue.signals` adds its sender when
# imported (nobody can have connected to a signal without importing that module).
_forwards: list[Callable[[object], None]] = []


def forward_to(send: Callable[[object], None]) -> None:
    if send not in _forwards:
        _forwards.append(send)


def dispatch(event: object) -> object:
    """Fire `event` to its listeners and to the signal of the same name; the listeners'
    first answer that is not None."""
    answer = listeners.until(event)
    for send in _forwards:
        send(event)
    return answer

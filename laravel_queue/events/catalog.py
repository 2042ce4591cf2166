"""Laravel's queue and batch events (Illuminate\\Queue\\Events, Illuminate\\Bus\\Events).

Plain values; `listeners` fires them. A batch event carries the batch as a `Batch` (typed
as its `BatchRecord`, which this floor can know).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from laravel_queue.jobs.options import WorkerOptions
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.messages.batch_record import BatchRecord
from laravel_queue.messages.payload import JobMessage
from laravel_queue.messages.records import FailedJob
from laravel_queue.status.record import Progress


class QueueJob(Protocol):
    """What listeners get as `event.job` while a job runs (Laravel: the queue's `Job`): one
    reservation of one message, the runtime's `JobRun`."""

    attempts: int
    message: JobMessage
    instance: Queueable | None

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
class JobQueueing(Event):
    """About to push the job (its message is built): `JobQueued` follows once it is on the
    broker. A push that fails fires no `JobQueued`."""

    queue: str
    id: str
    job: Queueable
    delay: float = 0.0


@dataclass(frozen=True)
class QueueFailedOver(Event):
    """A failover connection's member `connection_name` could not take a push (`exception`);
    the next member is tried. Fired once per outage per process (Laravel 12.34+). `job` is
    None for a bulk push or a republished message."""

    job: Queueable | None
    exception: BaseException


@dataclass(frozen=True)
class UniqueJobSkipped(Event):
    """`dispatch()` of a unique job dropped: another job holds its lock (Laravel 13)."""

    job: Queueable


@dataclass(frozen=True)
class JobPopped(Event):
    """The worker's main process received a job message from `queue` (Laravel: the job a
    pop returned); `JobProcessing` follows where it runs."""

    queue: str
    id: str
    name: str


@dataclass(frozen=True)
class JobQueued(Event):
    queue: str
    id: str
    job: Queueable
    delay: float = 0.0


@dataclass(frozen=True)
class JobProcessing(Event):
    job: QueueJob


@dataclass(frozen=True)
class JobProcessed(Event):
    """The job ran and ended without an exception; `duration` is how long the run took, in
    seconds from just before `JobProcessing`."""

    job: QueueJob
    duration: float = 0.0


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
class JobReleased(Event):
    """After `JobProcessed`: the run released the job (`self.release()` or a middleware), not
    an exception (which fires `JobReleasedAfterException`)."""

    job: QueueJob


@dataclass(frozen=True)
class JobTimedOut(Event):
    job: QueueJob


@dataclass(frozen=True)
class JobCancelled(Event):
    """A worker took a cancelled job and acknowledged it without running it."""

    job: QueueJob


@dataclass(frozen=True)
class JobDebounced(Event):
    """A worker took a debounced job that a later dispatch replaced, and ended it without
    running it (Laravel 13: `JobDebounced`)."""

    job: QueueJob


@dataclass(frozen=True)
class JobProgressed(Event):
    """The running job called `self.progress(...)` (fired on every call, in its process)."""

    job: QueueJob
    progress: Progress


# The events of one reservation, fired in the process that runs the job.
JOB_EVENTS: tuple[type[Event], ...] = (
    JobProcessing,
    JobProcessed,
    JobReleased,
    JobExceptionOccurred,
    JobReleasedAfterException,
    JobFailed,
    JobAttempted,
    JobTimedOut,
    JobProgressed,
    JobCancelled,
    JobDebounced,
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
class WorkerIdle(Event):
    """The worker runs no job and holds none, about every `--sleep` seconds (3 by default)
    while that lasts (Laravel 13: after an empty pop, before sleeping)."""

    queue: str
    options: WorkerOptions


@dataclass(frozen=True)
class WorkerPausing(Event):
    """The worker got SIGUSR2: it takes no new job until SIGCONT (Laravel 13)."""

    queue: str
    options: WorkerOptions


@dataclass(frozen=True)
class WorkerResuming(Event):
    """The paused worker got SIGCONT: it takes jobs again (Laravel 13)."""

    queue: str
    options: WorkerOptions


@dataclass(frozen=True)
class WorkerInterrupted(Event):
    """The worker's main process got `signal` (SIGTERM, SIGINT, SIGQUIT) and begins a warm
    shutdown, before the running jobs' `interrupted()` (Laravel 13)."""

    signal: str
    queue: str
    options: WorkerOptions


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
class LongWaitDetected:
    """The oldest pending job of a queue has waited `seconds`, longer than the queue's
    threshold (Horizon's LongWaitDetected): fired once per episode, by one worker, until
    the wait drops below the threshold again."""

    connection: str
    queue: str
    seconds: float


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
    batch: BatchRecord


@dataclass(frozen=True)
class BatchStarted:
    """The batch's first job ended, succeeded or failed (Laravel 13 fires it then, not at
    dispatch), before `then`/`catch`."""

    batch: BatchRecord


@dataclass(frozen=True)
class BatchFinished:
    """Every job of the batch has run once, succeeded or failed (when `finally` runs)."""

    batch: BatchRecord


@dataclass(frozen=True)
class BatchCanceled:
    batch: BatchRecord


class ScheduledTask(Protocol):
    """What the scheduler's events carry: the scheduled event (`Schedule.job(...)`)."""

    @property
    def description(self) -> str: ...

    @property
    def expression(self) -> str: ...


@dataclass(frozen=True)
class ScheduledTaskStarting:
    """A scheduler is about to dispatch `task` for its due time `due_at` (unix seconds)."""

    task: ScheduledTask
    due_at: float


@dataclass(frozen=True)
class ScheduledTaskFinished:
    """`task` was dispatched as the job `job_id` (None: a unique job's lock held it back),
    taking `runtime` seconds."""

    task: ScheduledTask
    due_at: float
    runtime: float
    job_id: str | None


@dataclass(frozen=True)
class ScheduledTaskSkipped:
    """`task` was due, but its `when`/`skip`/`between` conditions said no."""

    task: ScheduledTask
    due_at: float


@dataclass(frozen=True)
class ScheduledTaskFailed:
    """Dispatching `task` raised `exception` (the broker did not answer, the job could not
    be encoded): the scheduler goes on with the next event."""

    task: ScheduledTask
    due_at: float
    exception: BaseException

"""Laravel's queue events (Illuminate\\Queue\\Events) and batch events, and their listeners.

`laravel_queue.events.JobFailed` and the others are plain values (`catalog`); `listeners`
holds who listens (`Queue.listen(JobFailed, fn)`, `Queue.failing(fn)`, ...) and `dispatch`
fires an event to them and to the Celery-style signal of the same name (`signals`).
"""

from laravel_queue.events.catalog import (
    JOB_EVENTS,
    BatchCanceled,
    BatchDispatched,
    BatchFinished,
    Event,
    JobAttempted,
    JobCancelled,
    JobExceptionOccurred,
    JobFailed,
    JobProcessed,
    JobProcessing,
    JobProgressed,
    JobQueued,
    JobReleasedAfterException,
    JobRetryRequested,
    JobTimedOut,
    LongWaitDetected,
    Looping,
    QueueBusy,
    QueueJob,
    QueuePaused,
    QueueResumed,
    WorkerStarting,
    WorkerStopping,
)
from laravel_queue.events.listeners import Listener, Listeners, dispatch, listeners

__all__ = [
    "JOB_EVENTS",
    "BatchCanceled",
    "BatchDispatched",
    "BatchFinished",
    "Event",
    "JobAttempted",
    "JobCancelled",
    "JobExceptionOccurred",
    "JobFailed",
    "JobProcessed",
    "JobProcessing",
    "JobProgressed",
    "JobQueued",
    "JobReleasedAfterException",
    "JobRetryRequested",
    "JobTimedOut",
    "Listener",
    "Listeners",
    "LongWaitDetected",
    "Looping",
    "QueueBusy",
    "QueueJob",
    "QueuePaused",
    "QueueResumed",
    "WorkerStarting",
    "WorkerStopping",
    "dispatch",
    "listeners",
]

"""Each queue event as a Celery-style signal (`signals.job_failed.connect(fn)`).

For Celery users who already wire things up with `celery.signals`: the receiver gets
`sender=<event class>` and `event=<the event>` as keyword arguments.
"""

from __future__ import annotations

import re

from celery.utils.dispatch import Signal

from laravel_queue.events import catalog as events


def _signal_name(cls: type) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


_EVENT_CLASSES = [
    cls
    for cls in vars(events).values()
    if isinstance(cls, type)
    and cls.__module__ == events.__name__
    and cls not in (events.Event, events.QueueJob, events.ScheduledTask)
]

by_event: dict[type, Signal] = {
    cls: Signal(name=_signal_name(cls), providing_args={"event"}) for cls in _EVENT_CLASSES
}

job_queued = by_event[events.JobQueued]
worker_resuming = by_event[events.WorkerResuming]
worker_pausing = by_event[events.WorkerPausing]
queue_failed_over = by_event[events.QueueFailedOver]
worker_interrupted = by_event[events.WorkerInterrupted]
worker_idle = by_event[events.WorkerIdle]
job_released = by_event[events.JobReleased]
job_popped = by_event[events.JobPopped]
unique_job_skipped = by_event[events.UniqueJobSkipped]
job_queueing = by_event[events.JobQueueing]
job_processing = by_event[events.JobProcessing]
job_processed = by_event[events.JobProcessed]
job_exception_occurred = by_event[events.JobExceptionOccurred]
job_released_after_exception = by_event[events.JobReleasedAfterException]
job_failed = by_event[events.JobFailed]
job_attempted = by_event[events.JobAttempted]
job_timed_out = by_event[events.JobTimedOut]
job_progressed = by_event[events.JobProgressed]
job_cancelled = by_event[events.JobCancelled]
job_debounced = by_event[events.JobDebounced]
job_retry_requested = by_event[events.JobRetryRequested]
worker_starting = by_event[events.WorkerStarting]
worker_stopping = by_event[events.WorkerStopping]
looping = by_event[events.Looping]
queue_busy = by_event[events.QueueBusy]
long_wait_detected = by_event[events.LongWaitDetected]
queue_paused = by_event[events.QueuePaused]
queue_resumed = by_event[events.QueueResumed]
batch_dispatched = by_event[events.BatchDispatched]
batch_finished = by_event[events.BatchFinished]
batch_started = by_event[events.BatchStarted]
batch_canceled = by_event[events.BatchCanceled]
scheduled_task_starting = by_event[events.ScheduledTaskStarting]
scheduled_task_finished = by_event[events.ScheduledTaskFinished]
scheduled_task_skipped = by_event[events.ScheduledTaskSkipped]
scheduled_task_failed = by_event[events.ScheduledTaskFailed]


def send(event: object) -> None:
    signal = by_event.get(type(event))
    if signal is not None and signal.receivers:
        signal.send_robust(sender=type(event), event=event)

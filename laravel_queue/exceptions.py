"""Exceptions a user of laravel_queue can meet, named after Laravel's where one exists."""

from __future__ import annotations

import traceback
from pathlib import Path


class LaravelQueueError(Exception):
    """Base class of every error raised by laravel_queue itself."""


class MaxAttemptsExceededError(LaravelQueueError):
    """A job was reserved more times than it may be (Laravel: MaxAttemptsExceededException).

    Raised *instead of* running `handle`, which is how a release, a timeout or a worker crash
    on the last attempt ends up failing the job.
    """


class TimeoutExceededError(LaravelQueueError):
    """A job ran longer than its `timeout` (Laravel: TimeoutExceededException)."""


class ManuallyFailedError(LaravelQueueError):
    """`job.fail()` was called without an exception (Laravel: ManuallyFailedException)."""


class QueueConnectionError(LaravelQueueError):
    """The broker of a connection could not be reached; the job was *not* queued."""


class StoreTimeoutError(LaravelQueueError, TimeoutError):
    """A store (the failed-jobs database) did not answer in time; the record was spooled."""


class UnregisteredJobError(LaravelQueueError):
    """A message names a task this worker does not know, so it cannot run."""


class JobDecodeError(LaravelQueueError):
    """A message's body or `lq` header could not be decoded into a job."""


class JobEncodeError(LaravelQueueError, TypeError):
    """A job attribute cannot be encoded as JSON, so the job cannot be dispatched."""


class JobTooLargeError(LaravelQueueError, ValueError):
    """A job's encoded state is over `QueueManager(max_payload_bytes=...)`; it was not queued."""


class ModelNotFoundError(LaravelQueueError):
    """A model a job carries is no longer in the database when the job runs (Laravel:
    ModelNotFoundException). The job fails at once, whatever its `tries`, unless it sets
    `delete_when_missing_models = True`."""

    def __init__(self, model: str, keys: list[object]) -> None:
        self.model = model
        self.keys = keys
        more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
        self.gone = f"no {model} with the primary key {', '.join(map(repr, keys[:5]))}{more}"
        super().__init__(
            f"{self.gone}: deleted after the job was dispatched (set "
            "delete_when_missing_models = True on the job to end it quietly instead)"
        )


class ConfigurationError(LaravelQueueError, ValueError):
    """A URL, connection name or option given to laravel_queue is not usable."""


class BatchUnreadableError(LaravelQueueError):
    """A `job_batches` row whose JSON columns cannot be read: its callbacks cannot run."""


# -- how an exception reads in a log line -----------------------------------------------------


def describe(exc: BaseException) -> str:
    """`TypeName: message`, the one line a log needs."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


_PACKAGE_FOLDER = str(Path(__file__).resolve().parent)


def user_traceback(exc: BaseException) -> str | None:
    """The traceback of `exc` without this package's own frames (the pipeline that called the
    job), or None when no frame is the user's: the log shows where *their* code raised, once."""
    if exc.__traceback__ is None:
        return None
    summary = traceback.TracebackException.from_exception(exc)
    frames = [f for f in summary.stack if not f.filename.startswith(_PACKAGE_FOLDER)]
    if not frames:
        return None
    summary.stack = traceback.StackSummary.from_list(frames)
    return "".join(summary.format()).rstrip()


class NotInspectableError(LaravelQueueError):
    """The broker cannot show its queued messages without taking them (AMQP)."""

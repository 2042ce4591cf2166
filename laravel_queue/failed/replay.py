"""The message `failed:retry` publishes for a failed job (Laravel: RetryCommand).

Laravel re-pushes the stored payload with the same uuid, `attempts` reset to 0 and
`retryUntil` recomputed from the job. Here the same: the `lq` header gets `attempts=0`,
`exceptions=0`, a new `pushed_at` and a fresh `retry_until` from the job's `retry_until()`.
A plain Celery task is published as it was, with its retry count back at 0. A body that
could not be decoded is refused (it would only be refused again).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from laravel_queue.durations import to_timestamp
from laravel_queue.exceptions import JobDecodeError
from laravel_queue.jobs.registry import job_class
from laravel_queue.jobs.serialization import decode_job
from laravel_queue.messages.payload import HEADER, RAW_BODY_HEADER, JobMessage
from laravel_queue.messages.records import FailedJob

# How many refusals a report keeps in full; the count is always exact.
REPORTED_REFUSALS = 100


class NotRetryableError(Exception):
    """This row cannot be published again as it is; the message says why and what to do."""


@dataclass
class RetryReport:
    """What `manager.failed.retry()` did: counts, and why rows were left in place."""

    retried: int = 0
    missing: list[str] = field(default_factory=list)
    refused: int = 0
    reasons: list[tuple[int, str]] = field(default_factory=list)

    def refuse(self, job: FailedJob, reason: str) -> None:
        self.refused += 1
        if len(self.reasons) < REPORTED_REFUSALS:
            self.reasons.append((job.id, reason))

    @property
    def ok(self) -> bool:
        return not (self.missing or self.refused)


def replay_message(job: FailedJob) -> JobMessage:
    """The message to publish again, or `NotRetryableError` naming the problem."""
    try:
        message = job.message
    except JobDecodeError as exc:
        raise NotRetryableError(f"{exc}; read it with `lq failed:show` and forget it") from exc
    raw = message.headers.get(RAW_BODY_HEADER)
    if raw is not None:
        content_type = raw.get("content_type") if isinstance(raw, dict) else None
        raise NotRetryableError(
            f"its body could not be decoded ({content_type}), so it cannot be "
            "published again as JSON; read it with `lq failed:show` and forget it"
        )
    try:
        header = message.lq
    except JobDecodeError:
        # A malformed `lq` header is dropped: the worker settles the job's fields from its
        # class, as for a job sent with plain Celery.
        return replace(message, headers={k: v for k, v in message.headers.items() if k != HEADER})
    if header is None:
        return message  # a plain Celery task: published without `retries`, so it starts at 0
    retry_until = header.retry_until
    if retry_until is not None:
        retry_until = _recomputed_retry_until(message)
    # A retry is asked for by name: it runs even if its burst was debounced since.
    return message.with_lq(
        header.republished(attempts=0, exceptions=0, retry_until=retry_until, debounce=None)
    )


def _recomputed_retry_until(message: JobMessage) -> float | None:
    cls = job_class(message.task)
    if cls is None:
        raise NotRetryableError(
            f"its retry_until() must be recomputed but the job class {message.task} is not "
            "imported in this process; run the command with --app (or LQ_APP) naming the "
            "module that defines it"
        )
    try:
        deadline = decode_job(cls, message).retry_until()
    except JobDecodeError as exc:
        raise NotRetryableError(f"its retry_until() must be recomputed, but {exc}") from exc
    return to_timestamp(deadline) if deadline is not None else None

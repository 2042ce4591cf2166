"""Turning a job instance into its message (Laravel: Queue::createPayload).

Settings are read from the job when it is dispatched and frozen in the `lq` header, as in
Laravel: changing a class's `tries` later does not change jobs already queued.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from .durations import to_timestamp
from .encryption import ShouldBeEncrypted, encrypt_state
from .exceptions import JobTooLargeError
from .payload import HEADER, JobMessage, LqHeader
from .registry import task_name

if TYPE_CHECKING:
    from .job import Job


def normalize_backoff(value: object) -> list[int] | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [int(value)]
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return [int(v) for v in value] or None
    if isinstance(value, str):
        return [int(part) for part in value.split(",") if part.strip()] or None
    raise TypeError(f"backoff must be seconds or a list of seconds, got {value!r}")


def header_for(job: Job | type[Job], job_id: str) -> LqHeader:
    """The frozen settings of `job` (an instance, or a class for plain Celery sends)."""
    backoff = getattr(job, "backoff", None)
    retry_until = None
    if not isinstance(job, type):
        if callable(backoff):
            backoff = backoff()
        deadline = job.retry_until()
        retry_until = to_timestamp(deadline) if deadline is not None else None
    elif callable(backoff):
        backoff = None  # a backoff() method needs an instance; the worker default applies
    return LqHeader(
        uuid=job_id,
        display_name=job.display_name(),
        max_tries=job.tries,
        max_exceptions=job.max_exceptions,
        backoff=normalize_backoff(backoff),
        timeout=job.timeout,
        fail_on_timeout=bool(job.fail_on_timeout),
        retry_until=retry_until,
        encrypted=isinstance(job, ShouldBeEncrypted),  # False for a class
        pushed_at=time.time(),
    )


def build_message(
    job: Job, connection: str, queue: str, job_id: str, max_bytes: int = 0
) -> JobMessage:
    """The message of `job` under the uuid `job_id`; the job itself is left as it was.

    Raises `JobEncodeError` naming an attribute JSON cannot carry.

    A state over `max_bytes` once encoded (0: no limit) raises `JobTooLargeError`: a big
    message slows every broker round trip and every worker's memory, and Redis and RabbitMQ
    cap what they take.
    """
    state = job.encode_state()
    if isinstance(job, ShouldBeEncrypted):
        state = encrypt_state(state)
    if max_bytes:
        size = len(json.dumps(state, separators=(",", ":")).encode())
        if size > max_bytes:
            raise JobTooLargeError(
                f"{job.display_name()} is {size:,} bytes once encoded, over the limit of "
                f"{max_bytes:,}; queue a key to the data (a row id, an object-store path) "
                "instead of the data itself, or raise QueueManager(max_payload_bytes=...)"
            )
    return JobMessage(
        task=task_name(type(job)),
        id=job_id,
        kwargs=state,
        queue=queue,
        connection=connection,
        headers={HEADER: header_for(job, job_id).to_dict()},
    )

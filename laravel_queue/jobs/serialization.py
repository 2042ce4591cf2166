"""A job to its message and back (Laravel: Queue::createPayload, and the unserialize of
CallQueuedHandler): the message of a dispatch, a job as a link of a chain, a job rebuilt
from a message or a link.

Settings are read from the job when it is dispatched and frozen in the `lq` header, as in
Laravel: changing a class's `tries` later does not change jobs already queued.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol, TypeAlias, TypeVar, runtime_checkable

from laravel_queue.durations import to_seconds, to_timestamp
from laravel_queue.exceptions import JobTooLargeError, UnregisteredJobError
from laravel_queue.jobs.models import RunModels
from laravel_queue.jobs.queueable import Queueable, require_job_instance
from laravel_queue.jobs.registry import job_class, task_name
from laravel_queue.messages.encryption import ShouldBeEncrypted, decrypt_state, encrypt_state
from laravel_queue.messages.payload import HEADER, ChainState, JobMessage, LqHeader

Q = TypeVar("Q", bound=Queueable)


@runtime_checkable
class ChainLinkable(Protocol):
    """A step of a chain that is not a job: a pending batch (`Bus.batch([...])`, not yet
    dispatched), which says how it goes into the chain's header."""

    def as_chain_link(self) -> dict[str, Any]: ...


ChainItem: TypeAlias = "Queueable | ChainLinkable"
"""A job, or a pending batch to run as one step of a chain."""


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


def header_for(
    job: Queueable | type[Queueable], job_id: str, trace: dict[str, str] | None = None
) -> LqHeader:
    """The frozen settings of `job` (an instance, or a class for plain Celery sends), with
    its tags and the trace context of its dispatch span."""
    backoff = getattr(job, "backoff", None)
    retry_until = None
    tags = None
    if not isinstance(job, type):
        tags = [str(tag) for tag in job.tags()] or None
        if callable(backoff):
            backoff = backoff()
        deadline = job.retry_until()
        retry_until = to_timestamp(deadline) if deadline is not None else None
    elif callable(backoff):
        backoff = None  # a backoff() method needs an instance; the worker default applies
    chain = None if isinstance(job, type) else job.options.chain
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
        chain=chain.links if chain else None,
        chain_catch=chain.catch if chain else None,
        chain_queue=chain.queue if chain else None,
        chain_connection=chain.connection if chain else None,
        batch_id=None if isinstance(job, type) else job.options.batch_id,
        batch_progress=False if isinstance(job, type) else job.options.batch_progress,
        tags=tags,
        trace=trace or None,
        debounce=None if isinstance(job, type) else job.options.debounce_owner,
        priority=job.priority if isinstance(job, type) else job.options.priority or job.priority,
    )


def encoded_state(job: Queueable, max_bytes: int = 0) -> dict[str, Any]:
    """The kwargs that carry `job`'s state: encoded, encrypted when the job asks for it.

    Raises `JobEncodeError` naming an attribute JSON cannot carry, and `JobTooLargeError` for
    a state over `max_bytes` once encoded (0: no limit): a big message slows every broker
    round trip and every worker's memory, and Redis and RabbitMQ cap what they take.
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
    return state


def chain_link(job: Queueable) -> dict[str, Any]:
    """`job` as a link of a chain, travelling in the header of the job before it: its state
    now (as Laravel serializes chained jobs when the chain is built) and its own choices of
    queue, connection and delay."""
    delay = job.options.delay
    return {
        "task": task_name(type(job)),
        "state": encoded_state(job),
        "queue": job.options.queue,
        "connection": job.options.connection,
        "delay": to_seconds(delay) if delay is not None else None,
    }


def job_from_link(link: dict[str, Any]) -> Queueable:
    """The job a chain link carries, with its own queue, connection and delay set again."""
    cls = job_class(str(link.get("task")))
    if cls is None:
        raise UnregisteredJobError(
            f"the next job of the chain, {link.get('task')!r}, is not a registered Job class "
            "in this worker; import its module in the app module"
        )
    job = cls.from_state(decrypt_state(dict(link.get("state") or {})))
    job.options.queue = link.get("queue")
    job.options.connection = link.get("connection")
    job.options.delay = link.get("delay")
    return job


def build_message(
    job: Queueable,
    connection: str,
    queue: str,
    job_id: str,
    max_bytes: int = 0,
    trace: dict[str, str] | None = None,
) -> JobMessage:
    """The message of `job` under the uuid `job_id`, carrying the `trace` context of its
    dispatch span; the job itself is left as it was.

    Raises `JobEncodeError` or `JobTooLargeError` (see `encoded_state`).
    """
    state = encoded_state(job, max_bytes)
    options: dict[str, Any] = {}
    if job.options.batch_id:  # Celery's group fields: Flower shows a batch as a group
        options = {"group_id": job.options.batch_id, "group_index": job.options.batch_index}
    header = header_for(job, job_id, trace)
    return JobMessage(
        task=task_name(type(job)),
        id=job_id,
        kwargs=state,
        queue=queue,
        connection=connection,
        headers={HEADER: header.to_dict()},
        options=options,
    ).knowing(header)


def link_for(item: ChainItem) -> dict[str, Any]:
    """A job or a pending batch as a link of a chain (`TypeError` for anything else)."""
    if isinstance(item, ChainLinkable):
        return item.as_chain_link()
    require_job_instance(item, "a chain")
    return chain_link(item)


def apply_chain_defaults(job: Queueable, state: ChainState) -> None:
    """The chain's queue and connection for a job that names none of its own."""
    if job.options.queue is None and job.queue is None:
        job.options.queue = state.queue
    if job.options.connection is None and job.connection is None:
        job.options.connection = state.connection


def decode_job(cls: type[Q], message: JobMessage, models: RunModels | None = None) -> Q:
    """The job `message` carries, rebuilt without calling `__init__` (its state decrypted
    first when the job is encrypted), its models loaded by `models` (else left as keys)."""
    return cls.from_state(decrypt_state(message.kwargs), models.restore if models else None)

"""The message a job travels in: Celery task message + the `lq` header (DESIGN §4).

Body: the job's encoded state as the task's kwargs (readable in Flower, runnable by a stock
Celery worker). Header `lq`: the Laravel metadata, frozen at dispatch. `JobMessage` is the
complete message as the failed-jobs store keeps it, so a failure can be replayed verbatim.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

from laravel_queue.exceptions import JobDecodeError
from laravel_queue.messages.priorities import LEVELS

HEADER = "lq"
RAW_BODY_HEADER = "lq_raw_body"  # where a body that could not be decoded is kept (base64)
# Set in a request's delivery info by the worker's main process when it will count the job's
# success in its batch itself (laravel_queue.worker.batch_counts): the pool process does not.
SUCCESS_COUNTED_BY_WORKER = "lq_success_counted_by_worker"


@dataclass
class ChainState:
    """The rest of a chain, travelling with the job that runs before it (Laravel: `$chained`,
    `chainQueue`, `chainConnection`, `chainCatchCallbacks`).

    `links` are the jobs still to run, in order, each `{"task", "state", "queue",
    "connection", "delay"}` (its state encrypted if the job is); `catch` the callbacks run
    once if a job of the chain fails for good; `queue` and `connection` are the chain's
    defaults for jobs that name none of their own."""

    links: list[dict[str, Any]] = field(default_factory=list)
    catch: list[dict[str, Any]] = field(default_factory=list)
    queue: str | None = None
    connection: str | None = None


@dataclass(frozen=True)
class LqHeader:
    """Laravel's payload fields, frozen at dispatch (Laravel: Queue::createPayload).

    `attempts` counts the reservations this job already used up before this message was
    published (a release republishes with the new count); `exceptions` counts unhandled
    exceptions for `max_exceptions`. Both reset on `lq failed:retry`.
    """

    uuid: str
    display_name: str
    max_tries: int | None = None
    max_exceptions: int | None = None
    backoff: list[int] | None = None
    timeout: float | None = None
    fail_on_timeout: bool = False
    retry_until: float | None = None
    encrypted: bool = False
    pushed_at: float = field(default_factory=time.time)
    attempts: int = 0
    exceptions: int = 0
    chain: list[dict[str, Any]] | None = None
    chain_catch: list[dict[str, Any]] | None = None
    chain_queue: str | None = None
    chain_connection: str | None = None
    batch_id: str | None = None
    batch_progress: bool = False
    # When a delayed or released job became runnable (its wait is counted from then).
    available_at: float | None = None
    tags: list[str] | None = None
    trace: dict[str, str] | None = None  # the dispatch span's context (W3C traceparent)
    # [debounce key, this dispatch's token]: the job runs only if the key still holds it.
    debounce: list[str] | None = None
    priority: str | None = None  # its level within the queue; None: normal

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies, and this runs once per dispatch. The
        # fields most jobs leave empty are left out (a message read back gets the default).
        data = {name: getattr(self, name) for name in _ALWAYS}
        for name in _WHEN_SET:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data

    @classmethod
    def from_dict(cls, data: Any) -> LqHeader:
        """The header of a received message, its fields' types checked at the door: a
        `batch_id` of 12345 would otherwise reach the batches table (and fail there, on
        every try) instead of failing this one message with a readable reason."""
        if not isinstance(data, dict):
            raise JobDecodeError(f"the '{HEADER}' header is missing or not an object: {data!r}")
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        wrong = [
            f"{name} = {value!r:.60} (expected {_HEADER_TYPES[name][1]})"
            for name, value in known.items()
            if not _HEADER_TYPES[name][0](value)
        ]
        if wrong:
            raise JobDecodeError(
                f"the '{HEADER}' header has fields of the wrong type: " + ("; ".join(wrong))
            )
        try:
            return cls(**known)
        except TypeError as exc:
            raise JobDecodeError(f"the '{HEADER}' header is incomplete: {exc}") from exc

    def chain_state(self) -> ChainState | None:
        """The chain that follows this job (a copy: a running job may change its own)."""
        if not self.chain and not self.chain_catch:
            return None
        return ChainState(
            links=[dict(link) for link in self.chain or []],
            catch=[dict(spec) for spec in self.chain_catch or []],
            queue=self.chain_queue,
            connection=self.chain_connection,
        )

    def republished(self, **changes: Any) -> LqHeader:
        """The header of the same job published again (release, retry): a new `pushed_at`."""
        return replace(self, pushed_at=time.time(), available_at=None, **changes)

    @property
    def runnable_since(self) -> float:
        """When the job could first run: pushed, or due after its delay (its wait starts)."""
        return self.available_at or self.pushed_at


_WHEN_SET = ("available_at", "tags", "trace", "debounce", "priority")
_ALWAYS = tuple(name for name in LqHeader.__dataclass_fields__ if name not in _WHEN_SET)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _or_none(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_list_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(check(item) for item in value)


# Each field of `LqHeader`: the check a received value must pass, and what it says it wants.
_HEADER_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "uuid": (_is_str, "a string"),
    "display_name": (_is_str, "a string"),
    "max_tries": (_or_none(_is_number), "a number or null"),
    "max_exceptions": (_or_none(_is_number), "a number or null"),
    "backoff": (_or_none(_is_list_of(_is_number)), "a list of seconds or null"),
    "timeout": (_or_none(_is_number), "seconds or null"),
    "fail_on_timeout": (_is_bool, "true or false"),
    "retry_until": (_or_none(_is_number), "a timestamp or null"),
    "encrypted": (_is_bool, "true or false"),
    "pushed_at": (_is_number, "a timestamp"),
    "attempts": (_is_int, "an integer"),
    "exceptions": (_is_int, "an integer"),
    "chain": (_or_none(_is_list_of(lambda item: isinstance(item, dict))), "a list of objects"),
    "chain_catch": (
        _or_none(_is_list_of(lambda item: isinstance(item, dict))),
        "a list of objects",
    ),
    "chain_queue": (_or_none(_is_str), "a string or null"),
    "chain_connection": (_or_none(_is_str), "a string or null"),
    "batch_id": (_or_none(_is_str), "a string or null"),
    "batch_progress": (_is_bool, "true or false"),
    "available_at": (_or_none(_is_number), "a timestamp or null"),
    "tags": (_or_none(_is_list_of(_is_str)), "a list of strings or null"),
    "debounce": (
        _or_none(lambda value: _is_list_of(_is_str)(value) and len(value) == 2),
        "[key, token] or null",
    ),
    "priority": (_or_none(lambda value: value in LEVELS), "a priority level or null"),
    "trace": (
        _or_none(lambda value: isinstance(value, dict) and all(map(_is_str, value.values()))),
        "an object of strings or null",
    ),
}


@dataclass(frozen=True)
class JobMessage:
    """Everything needed to publish a job message again, exactly as it was.

    `headers` are the message's own headers (the `lq` header and any custom ones, not
    Celery's bookkeeping); `options` are the Celery publish options worth keeping for a plain
    task (`link`, `link_error`, `chain`); `exchange` and `routing_key` say how it was routed.
    """

    task: str
    id: str
    kwargs: dict[str, Any]
    queue: str
    connection: str
    headers: dict[str, Any] = field(default_factory=dict)
    args: list[Any] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    exchange: str = ""
    routing_key: str | None = None

    @cached_property
    def lq(self) -> LqHeader | None:
        """The `lq` header, parsed once (`JobDecodeError` when it is malformed)."""
        raw = self.headers.get(HEADER)
        return LqHeader.from_dict(raw) if raw is not None else None

    @classmethod
    def from_request(
        cls,
        task: str,
        task_id: str,
        request: Any,
        args: Any,
        kwargs: Any,
        *,
        default_queue: str,
        connection: str,
        options: dict[str, Any] | None = None,
    ) -> JobMessage:
        """The message a Celery request carried (a worker's `task.request`, or a `Context`
        rebuilt from one; None when nothing of it is known): its queue is the routing key it
        came by, else `default_queue`."""
        delivery = (getattr(request, "delivery_info", None) if request is not None else None) or {}
        routing_key = delivery.get("routing_key")
        headers = getattr(request, "headers", None) if request is not None else None
        return cls(
            task=task,
            id=task_id,
            kwargs=dict(kwargs or {}),
            args=list(args or []),
            queue=routing_key or default_queue,
            connection=connection,
            headers=dict(headers or {}),
            options=options or {},
            exchange=delivery.get("exchange") or "",
            routing_key=routing_key,
        )

    def with_lq(self, header: LqHeader) -> JobMessage:
        """This message with `header` as its `lq` header (already parsed: it was made here)."""
        return replace(self, headers={**self.headers, HEADER: header.to_dict()}).knowing(header)

    def knowing(self, header: LqHeader) -> JobMessage:
        """This message, its `lq` header taken as `header` without parsing it back: for a
        message this process built from `header` (a bulk dispatch parsed each one again,
        ~5 µs a job, to check what it had just written)."""
        self.__dict__["lq"] = header  # where `cached_property` keeps it
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobMessage:
        return cls(
            task=str(data["task"]),
            id=str(data["id"]),
            kwargs=dict(data.get("kwargs") or {}),
            queue=str(data["queue"]),
            connection=str(data["connection"]),
            headers=dict(data.get("headers") or {}),
            args=list(data.get("args") or []),
            options=dict(data.get("options") or {}),
            exchange=str(data.get("exchange") or ""),
            routing_key=data.get("routing_key"),
        )

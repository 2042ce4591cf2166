"""Celery's consumer, plus: messages Celery cannot run end in `failed_jobs` with the reason.

Celery logs and drops a message whose task is not registered or whose body cannot be decoded
(pickle, broken JSON), and a body of the wrong *shape* (`null`, `5`, `[[], {}]`) raises out of
its `Request` in the main process and stops the worker — the message goes back to the head of
the queue and stops every worker after it. Here every message is looked at before Celery
builds its request: one Celery could not run is written to `failed_jobs` first — complete,
with its raw bytes, so it can be read and replayed once the cause is fixed — and only then
acknowledged. Nothing a message holds can stop the consumer.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer
from celery.worker.consumer import connection as celery_connection_step
from celery.worker.consumer import consumer as celery_consumer
from kombu.exceptions import ContentDisallowed
from vine import promise

from laravel_queue import events
from laravel_queue.celery_app.task import demote_to_debug
from laravel_queue.exceptions import JobDecodeError, UnregisteredJobError, describe
from laravel_queue.manager import manager_for_app
from laravel_queue.messages.payload import RAW_BODY_HEADER, JobMessage
from laravel_queue.transport.envelope import UNREADABLE_CONTENT_TYPE
from laravel_queue.urls import RELIABLE_REDIS_TRANSPORT
from laravel_queue.worker.memory import (
    BIG_BLOCK_BYTES,
    give_back_freed_memory,
    return_big_blocks_when_freed,
)

logger = logging.getLogger("laravel_queue.worker")


class RecordedMessageLog(logging.Filter):
    """Celery reports a message it cannot run with the whole message, headers and a traceback
    (~25 lines); by then the consumer below has recorded it in `failed_jobs` and logged one
    line saying so, so Celery's report goes to DEBUG."""

    REPORTS = frozenset(
        {
            celery_consumer.UNKNOWN_TASK_ERROR,
            celery_consumer.INVALID_TASK_ERROR,
            celery_consumer.MESSAGE_DECODE_ERROR,
            celery_consumer.UNKNOWN_FORMAT,
        }
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return demote_to_debug(record) if record.msg in self.REPORTS else True


class BrokerNameLog(logging.Filter):
    """Celery's "Connected to <url>" names a transport given by import path with that path as
    the scheme (`laravel_queue.transport.redis:Transport://...`): say `redis://`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                arg.replace(f"{RELIABLE_REDIS_TRANSPORT}://", "redis://")
                if isinstance(arg, str)
                else arg
                for arg in record.args
            )
        return True


_recorded_message_log = RecordedMessageLog()
_broker_name_log = BrokerNameLog()


class Consumer(CeleryConsumer):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        return_big_blocks_when_freed()  # refused big messages leave no memory behind
        logging.getLogger(celery_consumer.__name__).addFilter(_recorded_message_log)
        for celery_logger in (celery_connection_step.__name__, celery_consumer.__name__):
            logging.getLogger(celery_logger).addFilter(_broker_name_log)
        super().__init__(*args, **kwargs)

    def create_task_handler(self, promise: Any = promise) -> Callable[[Any], None]:
        """Celery's handler, behind a check of the message's shape and a last line of defence:
        whatever Celery's handler raises for a message ends that message, not the worker."""
        celery_handler = super().create_task_handler(promise)
        manager = manager_for_app(self.app)
        max_bytes = manager.max_payload_bytes
        connection = manager.connection_for_app(self.app).name

        def on_task_received(message: Any) -> None:
            problem = malformed(message, self.strategies, max_bytes)
            if problem is not None:
                self._refuse(message, None, JobDecodeError(problem))
                return
            try:
                if events.listened(events.JobPopped):  # most workers: nobody, no event
                    events.dispatch(popped(message, connection))
                celery_handler(message)
            except Exception as exc:
                self._refuse(
                    message, None, JobDecodeError(f"the worker could not take the message: {exc!r}")
                )

        return on_task_received

    def _refuse(self, message: Any, body: Any, exc: BaseException) -> None:
        self._record(message, body, exc)
        if not message.acknowledged:
            message.ack_log_error(logger, self.connection_errors)

    def on_unknown_task(self, body: Any, message: Any, exc: BaseException) -> None:
        name = message.headers.get("task", "?")
        self._record(
            message,
            body,
            UnregisteredJobError(
                f"no task named '{name}' is registered in this worker; import the module that "
                f"defines it from the app module (Celery said: {exc!r})"
            ),
        )
        super().on_unknown_task(body, message, exc)

    def on_unknown_message(self, body: Any, message: Any) -> None:
        self._record(message, body, JobDecodeError("the message is not a Celery task message"))
        super().on_unknown_message(body, message)

    def on_invalid_task(self, body: Any, message: Any, exc: BaseException) -> None:
        self._record(message, body, _decode_error(message, exc))
        super().on_invalid_task(body, message, exc)

    def on_decode_error(self, message: Any, exc: BaseException) -> None:
        self._record(message, None, _decode_error(message, exc))
        super().on_decode_error(message, exc)

    def _record(self, message: Any, body: Any, exc: BaseException) -> None:
        try:
            manager = manager_for_app(self.app)
            recorded = raw_message(message, body, manager.connection_for_app(self.app).name)
            manager.failed.log(recorded, exc)
        except Exception:
            logger.exception("could not record the rejected message in failed_jobs")
            return
        logger.error(
            "refused %s[%s]: %s (recorded in failed_jobs)",
            recorded.task,
            recorded.id,
            describe(exc),
        )
        del recorded
        if len(message.body or b"") >= BIG_BLOCK_BYTES:
            give_back_freed_memory()  # the copies made to record it are free now


def _decode_error(message: Any, exc: BaseException) -> JobDecodeError:
    if message.content_type == UNREADABLE_CONTENT_TYPE:
        return JobDecodeError(
            "the broker held an entry that is not a Kombu message (not JSON, or a body that "
            "is not base64); its raw bytes are kept in lq_raw_body"
        )
    if isinstance(exc, ContentDisallowed):
        return JobDecodeError(
            f"refused a {message.content_type} message: laravel_queue accepts JSON only "
            "(pickle is never accepted)"
        )
    return JobDecodeError(f"cannot decode the message ({message.content_type}): {exc!r}")


def popped(message: Any, connection: str) -> events.JobPopped:
    """`JobPopped` for a message that passed `malformed` (its headers may still hold
    anything: a listener gets what is there, as text)."""
    headers = message.headers or {}
    queue = (message.delivery_info or {}).get("routing_key") or ""
    return events.JobPopped(
        connection, str(queue), str(headers.get("id", "")), str(headers.get("task", ""))
    )


def malformed(message: Any, strategies: Mapping[str, Any], max_bytes: int = 0) -> str | None:
    """Why Celery could not take this task message, or None to let Celery handle it.

    Checks what Celery's `Request` assumes without checking: a str task name and id, and for
    a registered task a body of `[args (list), kwargs (object), embed (object or null)]`.
    Messages Celery already handles (no task header, unknown task, undecodable body) pass.
    A body over `max_bytes` (0: no limit) is refused before it is decoded.
    """
    size = len(message.body or b"")
    if max_bytes and size > max_bytes:
        return (
            f"the message body is {size:,} bytes, over the limit of {max_bytes:,} "
            "(QueueManager(max_payload_bytes=...))"
        )
    headers = message.headers
    if not isinstance(headers, dict) or "task" not in headers:
        return None  # Celery reports it as an unknown message (protocol 1 or no task)
    name = headers["task"]
    if not isinstance(name, str):
        return f"the message's task header is not a name: {name!r:.200}"
    if name not in strategies:
        return None  # Celery reports it as an unregistered task
    if not isinstance(headers.get("id"), str):
        return f"the message's id header is missing or not a string: {headers.get('id')!r:.200}"
    try:
        body = message.payload  # decoded once: Kombu caches it for Celery's request
    except Exception:
        return None  # Celery reports it as a decode error
    if (
        isinstance(body, (list, tuple))
        and len(body) == 3
        and isinstance(body[0], (list, tuple))
        and isinstance(body[1], dict)
        and (body[2] is None or isinstance(body[2], dict))
    ):
        return None
    return (
        "the message body is not Celery's [args, kwargs, embed] (a list, an object, and an "
        f"object or null): {body!r:.200}"
    )


def _decoded_body(message: Any, body: Any) -> Any:
    if isinstance(body, (list, tuple)):
        return body
    try:
        return message.decode()  # JSON only: the app accepts nothing else
    except Exception:
        return None


def raw_message(message: Any, body: Any, connection: str) -> JobMessage:
    """The message as received, kept whole even when its body could not be decoded.

    Nothing in it is trusted: headers that are not an object are kept as their repr, and a
    body that is not `[args, kwargs, ...]` is kept as raw bytes (base64) for `failed:show`.
    """
    raw_headers = message.headers
    headers: dict[str, Any] = (
        dict(raw_headers)
        if isinstance(raw_headers, dict)
        else {"lq_raw_headers": repr(raw_headers)}
    )
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    body = _decoded_body(message, body)
    if (
        isinstance(body, (list, tuple))
        and len(body) >= 2
        and isinstance(body[0], (list, tuple))
        and isinstance(body[1], dict)
    ):
        args, kwargs = list(body[0]), dict(body[1])
    else:
        raw = message.body
        raw_bytes = raw if isinstance(raw, bytes) else str(raw).encode()
        headers[RAW_BODY_HEADER] = {
            "content_type": str(message.content_type),
            "content_encoding": str(message.content_encoding),
            "base64": base64.b64encode(raw_bytes).decode("ascii"),
        }
    delivery = message.delivery_info or {}
    properties = message.properties if isinstance(message.properties, dict) else {}
    return JobMessage(
        task=str(headers.get("task", "?")),
        id=str(headers.get("id") or properties.get("correlation_id") or uuid.uuid4()),
        kwargs=kwargs,
        args=args,
        queue=str(delivery.get("routing_key") or "?"),
        connection=connection,
        headers=headers,
        exchange=str(delivery.get("exchange") or ""),
        routing_key=delivery.get("routing_key"),
    )

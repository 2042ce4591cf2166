"""Celery's consumer, plus: messages Celery cannot run end in `failed_jobs` with the reason.

Celery logs and drops a message whose task is not registered or whose body cannot be decoded
(pickle, broken JSON). Here each is written to `failed_jobs` first — complete, so it can be
replayed once the cause is fixed — and only then acknowledged (DESIGN §2.6).
"""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer
from kombu.exceptions import ContentDisallowed

from ..exceptions import JobDecodeError, UnregisteredJobError
from ..payload import RAW_BODY_HEADER, JobMessage

logger = logging.getLogger("laravel_queue.worker")


class Consumer(CeleryConsumer):  # type: ignore[misc]
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
        from ..manager import manager_for_app

        try:
            manager = manager_for_app(self.app)
            manager.failed.log(
                raw_message(message, body, manager.connection_for_app(self.app).name), exc
            )
        except Exception:
            logger.exception("could not record the rejected message in failed_jobs")


def _decode_error(message: Any, exc: BaseException) -> JobDecodeError:
    if isinstance(exc, ContentDisallowed):
        return JobDecodeError(
            f"refused a {message.content_type} message: laravel_queue accepts JSON only "
            "(pickle is never accepted)"
        )
    return JobDecodeError(f"cannot decode the message ({message.content_type}): {exc!r}")


def _decoded_body(message: Any, body: Any) -> Any:
    if isinstance(body, (list, tuple)):
        return body
    try:
        return message.decode()  # JSON only: the app accepts nothing else
    except Exception:
        return None


def raw_message(message: Any, body: Any, connection: str) -> JobMessage:
    """The message as received, kept whole even when its body could not be decoded."""
    headers = dict(message.headers or {})
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    body = _decoded_body(message, body)
    if isinstance(body, (list, tuple)) and len(body) >= 2:
        args, kwargs = list(body[0]), dict(body[1])
    else:
        raw = message.body
        raw_bytes = raw if isinstance(raw, bytes) else str(raw).encode()
        headers[RAW_BODY_HEADER] = {
            "content_type": message.content_type,
            "content_encoding": message.content_encoding,
            "base64": base64.b64encode(raw_bytes).decode("ascii"),
        }
    delivery = message.delivery_info or {}
    return JobMessage(
        task=str(headers.get("task", "?")),
        id=str(headers.get("id") or message.properties.get("correlation_id") or uuid.uuid4()),
        kwargs=kwargs,
        args=args,
        queue=str(delivery.get("routing_key") or "?"),
        connection=connection,
        headers=headers,
        exchange=str(delivery.get("exchange") or ""),
        routing_key=delivery.get("routing_key"),
    )

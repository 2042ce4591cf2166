"""Kombu envelopes read by reliable fetch (a Redis list entry, a SQL row): whatever an entry
holds, a message comes out.

An entry that is not a Kombu envelope (not JSON, no delivery tag, a body that is not base64)
becomes a message of content type `UNREADABLE_CONTENT_TYPE` carrying the raw bytes, which the
worker's consumer records in `failed_jobs` instead of crashing on it.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from celery.worker import state as worker_state
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads

UNREADABLE_CONTENT_TYPE = "application/x-lq-unreadable"


def envelope(raw: bytes, queue: str) -> dict[str, Any]:
    """The Kombu envelope in `raw`, or an unreadable one carrying `raw` whole."""
    try:
        payload = loads(bytes_to_str(raw))
        properties = payload["properties"]
        if isinstance(properties, dict) and isinstance(properties.get("delivery_tag"), str):
            properties.setdefault("delivery_info", {})
            return payload  # type: ignore[no-any-return]
    except Exception:
        pass
    return unreadable(raw, queue, str(uuid.uuid4()))


def unreadable(raw: bytes, queue: str, tag: str) -> dict[str, Any]:
    return {
        "body": base64.b64encode(raw).decode("ascii"),
        "content-type": UNREADABLE_CONTENT_TYPE,
        "content-encoding": "binary",
        "headers": {},
        "properties": {
            "delivery_tag": tag,
            "body_encoding": "base64",
            "delivery_info": {"exchange": queue, "routing_key": queue},
            "priority": 0,
        },
    }


def mark_redelivered(payload: dict[str, Any]) -> None:
    headers = payload.get("headers")
    if isinstance(headers, dict):
        headers["redelivered"] = True
    delivery_info = payload["properties"].get("delivery_info")
    if isinstance(delivery_info, dict):
        delivery_info["redelivered"] = True


class Message(virtual.Message):  # type: ignore[misc]
    """Kombu's message; one whose body cannot be decoded (not base64) is delivered as
    unreadable, carrying the raw entry, instead of raising in the consumer. The channel
    says which entry a delivery tag came from (`taken_entry`)."""

    def __init__(self, payload: Any, channel: Any = None, **kwargs: Any) -> None:
        try:
            super().__init__(payload, channel=channel, **kwargs)
        except Exception:
            tag = payload["properties"]["delivery_tag"]
            queue, raw = channel.taken_entry(tag)
            super().__init__(unreadable(raw, queue, tag), channel=channel, **kwargs)


# Messages whose task has ended but whose acknowledgement waits for the worker to count the
# job's success in its batch (laravel_queue.worker.batch_counts): at a channel close they are
# treated as running, so they are acknowledged once counted instead of run again.
held_delivery_tags: set[str] = set()


def running_delivery_tags() -> set[str]:
    """Delivery tags of the messages this process's Celery worker has handed to its pool and
    not yet acknowledged."""
    running = {
        request.message.delivery_tag
        for request in tuple(worker_state.active_requests)
        if request.message is not None
    }
    return running | held_delivery_tags


def pushed_at(raw: bytes | str | None) -> float | None:
    """The `pushed_at` of the job in a raw Kombu envelope; None for anything else (an empty
    queue, a plain Celery task, an unreadable entry)."""
    if raw is None:
        return None
    try:
        value = loads(bytes_to_str(raw))["headers"]["lq"]["pushed_at"]
        return float(value)
    except Exception:
        return None

"""`InspectedJob`: a job seen where it waits, without taking it (Laravel 13's `InspectedJob`,
from `Queue::pendingJobs()`, `delayedJobs()` and `reservedJobs()`)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads

from laravel_queue.messages.payload import HEADER, JobMessage

UNREADABLE = "(unreadable)"
"""The `name` of an entry that is not a message Kombu could deliver."""


@dataclass(frozen=True)
class InspectedJob:
    """One job in a queue. `payload` is the job's encoded state, None when it is encrypted
    (`ShouldBeEncrypted`) or cannot be read; `available_at` is when a delayed job is due."""

    uuid: str
    queue: str
    name: str
    attempts: int
    pushed_at: float | None
    available_at: float | None = None
    payload: dict[str, Any] | None = None

    @classmethod
    def of(cls, message: JobMessage, available_at: float | None = None) -> InspectedJob:
        header = message.headers.get(HEADER)
        lq = header if isinstance(header, dict) else {}
        encrypted = bool(lq.get("encrypted"))
        return cls(
            uuid=str(lq.get("uuid") or message.id),
            queue=message.queue,
            name=str(lq.get("display_name") or message.task),
            attempts=_int(lq.get("attempts")),
            pushed_at=_float(lq.get("pushed_at")),
            available_at=available_at,
            payload=None if encrypted else message.kwargs,
        )

    @classmethod
    def from_entry(cls, raw: bytes | str, queue: str) -> InspectedJob:
        """The job in a broker entry (a Kombu envelope: JSON with a base64 body); one that
        cannot be read is listed as `UNREADABLE`, not skipped."""
        try:
            envelope = loads(bytes_to_str(raw))
            headers = envelope.get("headers") or {}
            body = envelope["body"]
            if envelope.get("properties", {}).get("body_encoding") == "base64":
                body = base64.b64decode(body)
            _args, kwargs, _embed = loads(bytes_to_str(body))
            message = JobMessage(
                task=str(headers.get("task") or ""),
                id=str(headers.get("id") or ""),
                kwargs=kwargs if isinstance(kwargs, dict) else {},
                queue=queue,
                connection="",
                headers=headers,
            )
            return cls.of(message)
        except Exception:
            return cls(uuid="", queue=queue, name=UNREADABLE, attempts=0, pushed_at=None)


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None

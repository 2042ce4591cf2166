"""What a final failure is: the record written for it, and a `failed_jobs` row as read back.

Plain values with no database code, so the worker records and reads failures without loading
the SQL driver until a row is actually written (`repository` does that).
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from laravel_queue.exceptions import JobDecodeError
from laravel_queue.messages.encoding import decode_value
from laravel_queue.messages.encryption import ENCRYPTED_KWARG
from laravel_queue.messages.payload import HEADER, JobMessage


@dataclass(frozen=True)
class FailureRecord:
    """What is written for one final failure; also the line format of the spool file."""

    uuid: str
    connection: str
    queue: str
    payload: str  # the JobMessage as JSON
    exception: str
    failed_at: float  # unix time, kept from the moment of failure even when spooled

    @classmethod
    def of(cls, message: JobMessage, exception: BaseException | str) -> FailureRecord:
        return cls(
            uuid=message.id,
            connection=message.connection,
            queue=message.queue,
            # default=str: AMQP headers may carry datetimes or decimals; the row must be written.
            payload=json.dumps(message.to_dict(), default=str),
            exception=describe_exception(exception),
            failed_at=time.time(),
        )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class FailedJob:
    """One `failed_jobs` row (Laravel: the failer's record, `$job` in JobRetryRequested).

    Any row can be read, whatever it holds (a hostile message recorded as it came, a row
    written by Laravel or by hand): what is not the expected shape reads as empty, and only
    `message` — which needs a publishable message — raises, saying why.
    """

    id: int
    uuid: str
    connection: str
    queue: str
    payload: dict[str, Any]
    exception: str
    failed_at: datetime

    @property
    def message(self) -> JobMessage:
        """The stored message; `JobDecodeError` when the row holds none that can be sent."""
        try:
            return JobMessage.from_dict(self.payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise JobDecodeError(
                f"the stored payload is not a laravel_queue message ({exc!r})"
            ) from exc

    @property
    def headers(self) -> dict[str, Any]:
        headers = self.payload.get("headers")
        return headers if isinstance(headers, dict) else {}

    @property
    def state(self) -> dict[str, Any]:
        """The job's encoded state (the message's kwargs), or {} when there is none."""
        kwargs = self.payload.get("kwargs")
        return kwargs if isinstance(kwargs, dict) else {}

    @property
    def encrypted(self) -> bool:
        return ENCRYPTED_KWARG in self.state

    @property
    def decoded_state(self) -> Any:
        """The job's attributes as the worker would rebuild them, or why they cannot be shown:
        an encrypted job's state is never decrypted for display."""
        if self.encrypted:
            return "(encrypted: not shown)"
        try:
            return {key: decode_value(value) for key, value in self.state.items()}
        except Exception as exc:  # a recorded hostile message may hold anything
            return f"(cannot be decoded: {exc!r})"

    @property
    def name(self) -> str:
        lq = self.headers.get(HEADER)
        display = lq.get("display_name") if isinstance(lq, dict) else None
        return str(display or self.payload.get("task") or "?")

    @property
    def tags(self) -> list[str]:
        """The job's tags as dispatched (none for a row that carries none)."""
        return tags_of(self.payload)

    def to_row(self) -> dict[str, Any]:
        """What a listing shows of it (`lq failed --json`, the dashboard's rows)."""
        return {
            "id": self.id,
            "uuid": self.uuid,
            "connection": self.connection,
            "queue": self.queue,
            "job": self.name,
            "exception": self.summary,
            "failed_at": self.failed_at.isoformat(sep=" ", timespec="seconds"),
            "tags": self.tags,
        }

    @property
    def summary(self) -> str:
        """The exception's last line, e.g. `ValueError: card declined`."""
        lines = self.exception.strip().splitlines()
        return lines[-1] if lines else ""


def tags_of(payload: dict[str, Any]) -> list[str]:
    """The tags in a stored message's `lq` header; none when it carries none."""
    headers = payload.get("headers")
    lq = headers.get(HEADER) if isinstance(headers, dict) else None
    tags = lq.get("tags") if isinstance(lq, dict) else None
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def parse_payload(text: str) -> dict[str, Any]:
    """The row's payload as an object; anything else is kept verbatim under `raw`."""
    try:
        payload = json.loads(text)
    except (TypeError, ValueError):
        return {"raw": text}
    return payload if isinstance(payload, dict) else {"raw": payload}


def describe_exception(exc: BaseException | str) -> str:
    """Laravel stores `(string) $exception`: type, message and the traceback."""
    if isinstance(exc, str):
        return exc
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()

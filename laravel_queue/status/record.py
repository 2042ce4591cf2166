"""`JobStatus`: where one job is, as its last transition left it (plain values).

States, in the order a job goes through them: `pending` (queued, runnable now) or `delayed`
(queued, runnable at `available_at`); `processing` (a worker runs it); then `released` (back
on its queue, runnable at `available_at`), `succeeded` (done, or deleted by itself) or
`failed` (for good, with `exception`). A job released goes through `processing` again. A job
cancelled before it ran is `cancelled` (`Queue.cancel`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_args

State = Literal[
    "pending",
    "delayed",
    "processing",
    "released",
    "succeeded",
    "failed",
    "cancelled",
    "debounced",  # a later dispatch of a debounced job replaced it; it did not run
    "deleted",  # a model it carries was gone and it deletes itself then; it did not run
]
STATES: tuple[State, ...] = get_args(State)
# One encoder for every record: `json.dumps` with `separators` makes one per call.
_compact_json = json.JSONEncoder(separators=(",", ":")).encode
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "debounced", "deleted"})


@dataclass(frozen=True)
class Progress:
    """How far a job says it has come (`self.progress(current, total, message)`)."""

    current: float
    total: float | None = None
    message: str = ""

    @property
    def percent(self) -> float | None:
        """`current` out of `total`, in percent; None without a total."""
        return round(self.current / self.total * 100, 1) if self.total else None


@dataclass(frozen=True)
class JobStatus:
    """One job's status; `Queue.status(job_id)` reads it."""

    id: str
    state: State
    name: str
    connection: str
    queue: str
    attempts: int = 0
    batch_id: str | None = None
    queued_at: float | None = None
    available_at: float | None = None
    """When a `delayed` or `released` job may run again."""
    started_at: float | None = None
    """When the last attempt started."""
    finished_at: float | None = None
    exception: str | None = None
    """`ExceptionClass: message` of the last exception, when the job raised one."""
    progress: Progress | None = None
    updated_at: float = 0.0
    tags: list[str] | None = None
    """The job's tags (`Job.tags()`), as dispatched."""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def moved(self, state: State, at: float, **changes: Any) -> JobStatus:
        """This status after a transition to `state` at `at`.

        Not `dataclasses.replace`, which checks every field again: a job moves twice per
        run, and this way costs a third less."""
        return JobStatus(**{**vars(self), "state": state, "updated_at": at, **changes})

    def to_json(self) -> str:
        data = dict(vars(self))  # not `asdict`, which deep-copies: this runs twice per job
        if self.progress is not None:
            data["progress"] = vars(self.progress)
        return _compact_json(data)

    @classmethod
    def from_json(cls, text: str) -> JobStatus | None:
        """The status `text` holds; None for a value that is not one (written by hand, or by
        another version), so a bad record reads as no record."""
        try:
            data = json.loads(text)
            progress = data.pop("progress", None)
            status = cls(**data, progress=Progress(**progress) if progress else None)
        except (TypeError, ValueError, AttributeError):
            return None
        return status if status.state in STATES else None


def queued_json(
    job_id: str,
    name: str,
    connection: str,
    queue: str,
    batch_id: str | None,
    at: float,
    available_at: float | None,
    tags: list[str] | None = None,
) -> str:
    """`JobStatus.to_json()` of a job just queued (`pending`, or `delayed` until
    `available_at`), made without the record: every dispatch writes one, so what a queue's
    jobs share is encoded once."""
    shared = _queued_fields(
        "pending" if available_at is None else "delayed", name, connection, queue, batch_id
    )
    text = f'{shared},"id":{json.dumps(job_id)},"queued_at":{at!r},"updated_at":{at!r}'
    if available_at is not None:
        text += f',"available_at":{available_at!r}'
    if tags:
        text += f',"tags":{json.dumps(tags)}'
    return text + "}"


@lru_cache(maxsize=256)
def _queued_fields(
    state: State, name: str, connection: str, queue: str, batch_id: str | None
) -> str:
    fields = {"state": state, "name": name, "connection": connection, "queue": queue}
    if batch_id is not None:
        fields["batch_id"] = batch_id
    return json.dumps(fields, separators=(",", ":"))[:-1]  # open, for the job's own fields

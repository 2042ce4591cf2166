"""`BatchRecord`: one row of `job_batches`, a plain value with no database code.

`bus.batch.Batch` (what users hold) extends it with what reaches the manager (`fresh`,
`cancel`, `add`); events carry it, so a worker can load batches without the SQL driver;
`bus.batch_repository.BatchRepository` reads and writes the rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchRecord:
    """One row of `job_batches`, as read at one moment."""

    id: str
    name: str
    total_jobs: int
    pending_jobs: int
    failed_jobs: int
    failed_job_ids: list[str]
    options: dict[str, Any]
    created_at: int
    cancelled_at: int | None = None
    finished_at: int | None = None

    # Why the row's JSON columns could not be read (a row written by hand, a truncated
    # write): the batch is still listed and counted, its callbacks cannot run.
    problem: str | None = None

    @classmethod
    def of(cls, row: Any) -> BatchRecord:
        problems: list[str] = []
        return cls(
            id=row.id,
            name=row.name,
            total_jobs=int(row.total_jobs),
            pending_jobs=int(row.pending_jobs),
            failed_jobs=int(row.failed_jobs),
            failed_job_ids=list(_json(row.failed_job_ids, "[]", list, "failed_job_ids", problems)),
            options=dict(_json(row.options, "{}", dict, "options", problems)),
            created_at=int(row.created_at),
            cancelled_at=row.cancelled_at,
            finished_at=row.finished_at,
            problem="; ".join(problems) or None,
        )

    def processed_jobs(self) -> int:
        """Jobs that succeeded (failures are not "processed", as in Laravel)."""
        return self.total_jobs - self.pending_jobs

    def progress(self) -> int:
        """Percent processed, rounded (0 for an empty batch)."""
        return round(self.processed_jobs() / self.total_jobs * 100) if self.total_jobs else 0

    def finished(self) -> bool:
        return self.finished_at is not None

    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def has_failures(self) -> bool:
        return self.failed_jobs > 0

    def allows_failures(self) -> bool:
        return bool(self.options.get("allow_failures"))


def _json(text: str | None, empty: str, kind: type, column: str, problems: list[str]) -> Any:
    """The column's JSON value, or an empty one with the reason added to `problems`."""
    try:
        value = json.loads(text or empty)
    except ValueError as exc:
        problems.append(f"its {column} column is not JSON ({exc})")
        return kind()
    if not isinstance(value, kind):
        problems.append(f"its {column} column is not a JSON {kind.__name__}: {text!r:.80}")
        return kind()
    return value

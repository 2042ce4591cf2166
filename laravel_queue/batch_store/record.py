"""`BatchRecord`: one row of `job_batches`, a plain value with no database code.

`Batch` (what users hold) extends it, so a worker can load batches without the SQL driver;
`sql.BatchRepository` reads and writes the rows.
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

    @classmethod
    def of(cls, row: Any) -> BatchRecord:
        return cls(
            id=row.id,
            name=row.name,
            total_jobs=int(row.total_jobs),
            pending_jobs=int(row.pending_jobs),
            failed_jobs=int(row.failed_jobs),
            failed_job_ids=list(json.loads(row.failed_job_ids or "[]")),
            options=dict(json.loads(row.options or "{}")),
            created_at=int(row.created_at),
            cancelled_at=row.cancelled_at,
            finished_at=row.finished_at,
        )

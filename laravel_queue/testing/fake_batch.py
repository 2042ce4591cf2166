"""A batch that lives in memory, for testing a job that reads, adds to or cancels its batch
without a database (Laravel: `[$job, $batch] = $job->withFakeBatch()` and BatchFake)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from laravel_queue.bus.batch import Batch, BatchItem, as_chain
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.manager import QueueManager


@dataclass(frozen=True)
class FakeBatch(Batch):
    """A `Batch` whose changes are recorded on the object: `added` (the jobs `add()` was
    given, chains flattened), `cancelled()`, `was_deleted`. Nothing is stored or queued."""

    added: list[Queueable] = field(default_factory=list, kw_only=True, compare=False)
    was_deleted: bool = field(default=False, kw_only=True, compare=False)

    @classmethod
    def new(cls, manager: QueueManager, name: str = "", total: int = 1) -> FakeBatch:
        return cls(
            id=str(uuid.uuid4()),
            name=name,
            total_jobs=total,
            pending_jobs=total,
            failed_jobs=0,
            failed_job_ids=[],
            options={},
            created_at=int(time.time()),
            manager=manager,
        )

    def _set(self, **changes: Any) -> None:
        for name, value in changes.items():
            object.__setattr__(self, name, value)  # frozen like Batch; the fake records

    def add(self, items: Iterable[BatchItem]) -> Batch:
        jobs = [job for item in items for job in as_chain(item)]
        self.added.extend(jobs)
        self._set(
            total_jobs=self.total_jobs + len(jobs), pending_jobs=self.pending_jobs + len(jobs)
        )
        return self

    def cancel(self) -> None:
        now = int(time.time())
        self._set(cancelled_at=self.cancelled_at or now, finished_at=self.finished_at or now)

    def delete(self) -> None:
        self._set(was_deleted=True)

    def fresh(self) -> Batch:
        return self

"""`Bus.fake()`: record dispatched jobs, chains and batches instead of sending them
(Laravel: Bus::fake and Illuminate\\Support\\Testing\\Fakes\\BusFake)."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from laravel_queue.bus.host import BatchDraft
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.manager import QueueManager
from laravel_queue.messages.batch_record import BatchRecord
from laravel_queue.testing.installed import InstalledFake
from laravel_queue.testing.matching import (
    Expected,
    Predicate,
    chain_matches,
    chain_of,
    describe,
    matches,
    name_of,
)


class BusFake(InstalledFake):
    """Installed on a manager by `Bus.fake()` (a context manager too, like `Queue.fake()`).
    Dispatches (`Cls.dispatch`, `job.dispatch()`, `Bus.dispatch`, the first job of a chain)
    of the faked classes are recorded, and every batch: `dispatch()` of a batch returns a
    `Batch` with its counts that is not stored. `dispatch_sync` still runs the job."""

    slot = "dispatch_recorder"
    verb = "dispatched"

    def __init__(self, manager: QueueManager, jobs_to_fake: Iterable[type[Queueable]] = ()) -> None:
        super().__init__(manager, jobs_to_fake)
        self.dispatches: list[Queueable] = []
        self.batches: list[BatchDraft] = []

    # -- what the dispatcher calls -----------------------------------------------------------

    def record_dispatch(self, job: Queueable, job_id: str) -> None:
        self.dispatches.append(job)

    def record_batch(self, pending: BatchDraft) -> BatchRecord:
        self.batches.append(pending)
        total = len(pending.jobs)
        return BatchRecord(
            id=str(uuid.uuid4()),
            name=pending.batch_name,
            total_jobs=total,
            pending_jobs=total,
            failed_jobs=0,
            failed_job_ids=[],
            options=copy.deepcopy(pending.options),
            created_at=int(time.time()),
        )

    # -- reading -----------------------------------------------------------------------------

    def dispatched(self, cls: Expected, predicate: Predicate | None = None) -> list[Queueable]:
        return [
            job
            for job in self.dispatches
            if matches(cls, job) and (predicate is None or predicate(job))
        ]

    def _found(self, expected: Expected, predicate: Predicate | None = None) -> list[Any]:
        return self.dispatched(expected, predicate)

    def _sent(self) -> list[Any]:
        return self.dispatches

    def _instead(self) -> str:
        return describe([(job, "dispatched") for job in self.dispatches])

    # -- assertions (Laravel: assertDispatched and friends) ------------------------------------

    def assert_dispatched(
        self, cls: Expected, predicate_or_times: Predicate | int | None = None
    ) -> None:
        self._assert_sent(cls, predicate_or_times)

    def assert_dispatched_times(self, cls: Expected, times: int) -> None:
        self._assert_sent_times(cls, times)

    def assert_not_dispatched(self, cls: Expected, predicate: Predicate | None = None) -> None:
        self._assert_not_sent(cls, predicate)

    def assert_nothing_dispatched(self) -> None:
        self._assert_nothing_sent()

    def assert_chained(self, chain: Sequence[Expected]) -> None:
        """A chain of exactly these jobs (classes, or instances compared by state) was
        dispatched: `Bus.chain([...]).dispatch()` or `job.chain([...]).dispatch()`."""
        if not chain:
            raise ValueError("assert_chained needs the jobs of the chain")
        first, *rest = chain
        chains = [[job, *chain_of(job)] for job in self.dispatches]
        if not any(matches(first, c[0]) and chain_matches(rest, c[1:]) for c in chains):
            seen = "; ".join("[" + ", ".join(type(j).__name__ for j in c) + "]" for c in chains)
            wanted = ", ".join(name_of(e) for e in chain)
            raise AssertionError(
                f"expected the chain [{wanted}] to be dispatched; dispatched: {seen or 'nothing'}"
            )

    def assert_batched(self, predicate: Predicate) -> None:
        """A batch for which `predicate(pending_batch)` holds was dispatched (it gets the
        `PendingBatch`: `.batch_name`, `.jobs`, `.allows_failures()`)."""
        if not any(predicate(pending) for pending in self.batches):
            raise AssertionError(
                f"expected a batch matching the predicate; {len(self.batches)} batch(es) were "
                f"dispatched: {self._describe_batches()}"
            )

    def assert_batch_count(self, count: int) -> None:
        if len(self.batches) != count:
            raise AssertionError(
                f"expected {count} batch(es) to be dispatched, {len(self.batches)} were: "
                f"{self._describe_batches()}"
            )

    def assert_nothing_batched(self) -> None:
        if self.batches:
            raise AssertionError(f"expected no batch; dispatched: {self._describe_batches()}")

    def _describe_batches(self) -> str:
        return (
            "; ".join(
                f"{pending.batch_name or '(unnamed)'} with {len(pending.jobs)} job(s)"
                for pending in self.batches
            )
            or "none"
        )

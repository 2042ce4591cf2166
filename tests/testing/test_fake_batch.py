"""`job.with_fake_batch()`: a job's batch in memory, recording what `handle()` did to it."""

from __future__ import annotations

from pathlib import Path

from laravel_queue import Job, QueueManager
from laravel_queue.testing import FakeBatch

from .. import jobs


class CancelsItsBatch(Job):
    def handle(self) -> None:
        batch = self.batch()
        if batch is not None and not batch.cancelled():
            batch.cancel()


def test_a_job_adding_to_its_batch_is_recorded_and_nothing_is_queued(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    job, batch = jobs.AddsToItsBatch(str(trace), "adder").with_fake_batch(name="import")
    job.handle()
    assert isinstance(batch, FakeBatch) and job.batch() is batch
    assert [type(added) for added in batch.added] == [jobs.Traced]
    assert (batch.name, batch.total_jobs, batch.pending_jobs) == ("import", 2, 2)
    assert sqlite_manager.connection().size("default") == 0


def test_a_job_cancelling_its_batch_is_recorded(sqlite_manager: QueueManager) -> None:
    job, batch = CancelsItsBatch().with_fake_batch()
    assert not batch.cancelled()
    job.handle()
    assert batch.cancelled() and batch.finished() and batch.fresh() is batch
    batch.delete()
    assert batch.was_deleted

"""The job_batches counters on SQLite, PostgreSQL and MariaDB: each job counts once per
outcome, and of many workers counting at once exactly one sees the batch end."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from laravel_queue.batch_store.sql import BatchRepository
from laravel_queue.db.engine import make_engine
from laravel_queue.db.migrate import migrate


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def repo(engine: Engine) -> BatchRepository:
    return BatchRepository(engine)


def test_a_job_that_runs_twice_counts_once(repo: BatchRepository) -> None:
    batch = repo.store("twice", {})
    repo.increment_total(batch.id, 2)
    first = repo.record_success(batch.id, "job-1")
    assert first is not None and first.pending_jobs == 1
    assert repo.record_success(batch.id, "job-1") is None  # redelivered after a crash
    assert repo.record_failure(batch.id, "job-1") is None
    found = repo.find(batch.id)
    assert found is not None and (found.pending_jobs, found.failed_jobs) == (1, 0)


def test_a_failure_retried_to_success_leaves_the_failed_ids(repo: BatchRepository) -> None:
    batch = repo.store("retry", {})
    repo.increment_total(batch.id, 2)
    failed = repo.record_failure(batch.id, "job-1")
    assert failed is not None and failed.failed_job_ids == ["job-1"] and failed.failed_jobs == 1
    assert repo.record_failure(batch.id, "job-1") is None  # failed again: counted already
    done = repo.record_success(batch.id, "job-1")
    assert done is not None
    # Laravel: pending goes down and the uuid leaves failed_job_ids; failed_jobs stays
    assert (done.pending_jobs, done.failed_jobs, done.failed_job_ids) == (1, 1, [])


def test_of_many_workers_finishing_at_once_exactly_one_sees_pending_reach_zero(
    repo: BatchRepository,
) -> None:
    jobs = 40
    batch = repo.store("race", {})
    repo.increment_total(batch.id, jobs)
    seen: list[int] = []
    start = threading.Barrier(8)

    def finish(worker: int) -> None:
        start.wait()
        for n in range(worker, jobs, 8):
            counted = repo.record_success(batch.id, f"job-{n}")
            assert counted is not None
            seen.append(counted.pending_jobs)

    threads = [threading.Thread(target=finish, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(jobs))  # every count distinct: one saw 0
    assert repo.mark_finished(batch.id) and not repo.mark_finished(batch.id)


def test_cancel_happens_once_and_prune_deletes_what_is_old(repo: BatchRepository) -> None:
    batch = repo.store("old", {})
    assert repo.cancel(batch.id) and not repo.cancel(batch.id)
    kept = repo.store("new", {})
    assert repo.prune(finished_before=batch.created_at + 1) == 1
    assert repo.find(batch.id) is None and repo.find(kept.id) is not None

"""The job_batches counters on SQLite, PostgreSQL and MariaDB: each job counts once per
outcome, and of many workers counting at once exactly one sees the batch end."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from laravel_queue.bus.batch_repository import BatchRepository
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


def test_many_successes_count_in_one_call_and_once_each(repo: BatchRepository) -> None:
    batch = repo.store("many", {})
    repo.increment_total(batch.id, 5)
    record, counted = repo.record_successes(batch.id, ["job-1", "job-2", "job-3", "job-3"])
    assert counted == 3 and record is not None and record.pending_jobs == 2
    # redelivered ones count nothing; a new one beside them counts alone
    record, counted = repo.record_successes(batch.id, ["job-2", "job-4", "job-1"])
    assert counted == 1 and record is not None and record.pending_jobs == 1
    assert repo.record_successes(batch.id, ["job-1", "job-4"]) == (None, 0)
    assert repo.record_successes(batch.id, []) == (None, 0)


def test_a_failure_retried_to_success_among_many_leaves_the_failed_ids(
    repo: BatchRepository,
) -> None:
    batch = repo.store("retry many", {})
    repo.increment_total(batch.id, 4)
    repo.record_failure(batch.id, "job-1")
    repo.record_failure(batch.id, "job-2")
    record, counted = repo.record_successes(batch.id, ["job-1", "job-3"])
    assert counted == 2 and record is not None
    assert (record.pending_jobs, record.failed_jobs, record.failed_job_ids) == (2, 2, ["job-2"])


def test_of_many_processes_counting_overlapping_sets_each_job_counts_once(
    repo: BatchRepository,
) -> None:
    """Workers' main processes count what their pools finished, and a redelivered job can
    be in two of their sets at once: every job still counts once, one count sees 0."""
    jobs = 60
    batch = repo.store("overlap", {})
    repo.increment_total(batch.id, jobs)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def count(worker: int) -> None:
        start.wait()
        try:
            for first in range(worker * 5, jobs, 30):  # overlapping windows of 10
                record, counted = repo.record_successes(
                    batch.id, [f"job-{n}" for n in range(first, min(first + 10, jobs))]
                )
                if counted:
                    assert record is not None
                    results.append((record.pending_jobs, counted))
        except BaseException as exc:  # a deadlock the repository did not retry, say
            errors.append(exc)

    threads = [threading.Thread(target=count, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(counted for _, counted in results) == jobs
    assert [pending for pending, _ in results].count(0) == 1
    found = repo.find(batch.id)
    assert found is not None and found.pending_jobs == 0


def test_cancel_happens_once_and_prune_deletes_what_is_old(repo: BatchRepository) -> None:
    batch = repo.store("old", {})
    assert repo.cancel(batch.id) and not repo.cancel(batch.id)
    kept = repo.store("new", {})
    cancelled = repo.find(batch.id)
    assert cancelled is not None and cancelled.finished_at is not None
    # (by its finish time: created_at + 1 failed when the cancel fell in the next second)
    assert repo.prune(finished_before=cancelled.finished_at + 1) == 1
    assert repo.find(batch.id) is None and repo.find(kept.id) is not None

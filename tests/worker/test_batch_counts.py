"""A worker counts its batched jobs' successes in its main process, many at a time: the
callbacks they call for run in a `BatchCallbacks` job, a batch with `progress` callbacks
keeps counting in the job, and a warm shutdown with counts held runs no job twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import create_engine, text

from laravel_queue import Bus, Queue, QueueManager, events
from laravel_queue.worker.batch_counts import BatchCallbacks

from .. import jobs
from ..support import ROOT, ServiceUrls, lines, wait_until, worker


@pytest.fixture
def processed() -> Iterator[list[object]]:
    """The instances of the jobs this process's worker ran to the end."""
    seen: list[object] = []

    def listener(event: events.JobProcessed) -> None:
        seen.append(event.job.instance)

    Queue.listen(events.JobProcessed, listener)
    yield seen
    events.listeners.forget(events.JobProcessed, listener)


def test_the_worker_counts_successes_and_runs_then_and_finally_in_one_job(
    manager: QueueManager, trace: Path, callback_trace: Path, processed: list[object]
) -> None:
    batch = (
        Bus.batch([jobs.Traced(str(trace), n) for n in "abcd"])
        .name("counted")
        .then(jobs.batch_then)
        .finally_(jobs.batch_finally)
        .dispatch()
    )
    with worker(manager):
        wait_until(lambda: "finally" in " ".join(lines(callback_trace)), timeout=30)
    assert lines(callback_trace) == [
        "then counted pending=0 failed=0",
        "finally counted pending=0 failed=0",
    ]
    assert [type(job) for job in processed].count(BatchCallbacks) == 1
    done = batch.fresh()
    assert (done.pending_jobs, done.failed_jobs) == (0, 0) and done.finished()


def test_a_batch_with_progress_callbacks_counts_each_job_in_the_job(
    sqlite_manager: QueueManager, trace: Path, callback_trace: Path, processed: list[object]
) -> None:
    """`progress` fires right after each job, in order with `catch` and `finally`."""
    (
        Bus.batch([jobs.Traced(str(trace), n) for n in "ab"])
        .name("p")
        .progress(jobs.batch_progress)
        .finally_(jobs.batch_finally)
        .dispatch()
    )
    with worker(sqlite_manager):
        wait_until(lambda: "finally" in " ".join(lines(callback_trace)), timeout=30)
    assert lines(callback_trace) == ["progress p", "progress p", "finally p pending=0 failed=0"]
    assert not [job for job in processed if isinstance(job, BatchCallbacks)]


def test_a_batch_without_callbacks_queues_no_job_to_run_them(
    sqlite_manager: QueueManager, trace: Path, processed: list[object]
) -> None:
    """Nothing to run, nothing queued: such a job, tried once, would end in `failed_jobs` if
    a worker died holding it."""
    batch = Bus.batch([jobs.Traced(str(trace), n) for n in "abc"]).dispatch()
    with worker(sqlite_manager):
        wait_until(lambda: batch.fresh().finished(), timeout=30)
        time.sleep(0.3)  # a callbacks job, had one been queued, would run now
    assert len(processed) == 3
    assert not [job for job in processed if isinstance(job, BatchCallbacks)]


def test_a_worker_that_counted_no_batch_does_not_load_the_batch_store_to_stop(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    """The store (SQLAlchemy, the migrations' check) is loaded for the first batched job; a
    stop with nothing to count loaded it too, for nothing, while the worker shut down."""
    jobs.Traced(str(trace)).dispatch()
    with worker(sqlite_manager):
        wait_until(lambda: lines(trace), timeout=30)
    assert "batches" not in vars(sqlite_manager)  # the stop waited for the counter's thread


@pytest.mark.slow
def test_a_warm_shutdown_while_counts_wait_counts_them_and_runs_no_job_twice(
    redis_urls: ServiceUrls,
    postgres_url: str,
    tmp_path: Path,
    trace: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The test holds the batch's row locked, so the worker's count waits on it, and stops
    the worker (SIGTERM) once every job has run. The held messages must be acknowledged once
    their count is made, not put back: a second worker on the queue then runs nothing."""
    callbacks = tmp_path / "callbacks.log"
    callbacks.touch()
    monkeypatch.setenv(jobs.CALLBACK_TRACE, str(callbacks))
    env = {
        "LQ_HOME": str(tmp_path),
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": postgres_url,
        jobs.CALLBACK_TRACE: str(callbacks),
    }
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, cache_url=redis_urls.cache, database_url=postgres_url)
    log = tmp_path / "worker.log"
    count = 20
    batch = (
        Bus.batch([jobs.Traced(str(trace), f"j{n}") for n in range(count)])
        .name("held")
        .then(jobs.batch_then)
        .dispatch()
    )
    engine = create_engine(postgres_url)
    lock = engine.connect()
    try:
        lock.execute(text("SELECT id FROM job_batches WHERE id = :id FOR UPDATE"), {"id": batch.id})
        first = _worker(env, log)
        wait_until(lambda: len(lines(trace)) == count, timeout=60)
        time.sleep(0.3)  # the last successes reach the counter, which waits on the lock
        assert batch.fresh().pending_jobs == count  # nothing counted yet: the instrument
        first.send_signal(signal.SIGTERM)
        time.sleep(0.5)
    finally:
        lock.rollback()  # the count goes through (or was spooled; the next worker drains it)
        lock.close()
        engine.dispose()
    first.wait(timeout=60)
    second = _worker(env, log)
    try:
        wait_until(lambda: batch.fresh().pending_jobs == 0, timeout=60)
        wait_until(lambda: lines(callbacks) == ["then held pending=0 failed=0"], timeout=30)
        time.sleep(2)  # anything put back would run now
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    ran = [line.split()[0] for line in lines(trace)]
    assert sorted(ran) == sorted(f"j{n}" for n in range(count))  # each once
    assert lines(callbacks) == ["then held pending=0 failed=0"]
    assert manager.failed.count() == 0
    # counted by a main process, not in the pool processes: `then` ran in its own job
    assert "batch_counts.BatchCallbacks[" in log.read_text()


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`lq work` with two pool processes, its log appended to `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "laravel_queue.cli", "--app", "tests.apps", "work"),
                *("--concurrency", "2", "--sleep", "0.1"),
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

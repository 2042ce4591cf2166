"""Unique jobs: dropped duplicates, the lock's lifetime (success, retries, final failure,
until-processing), owner tokens across retries, failed pushes and rollbacks, and 8 processes
dispatching the same job at once."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from laravel_queue import Queue, QueueConnectionError, QueueManager

from .. import jobs
from ..support import ServiceUrls, lines, wait_until, worker

KEY = "unique:tests.jobs.SyncsAccount:1"


def test_a_duplicate_dispatch_is_dropped_and_returns_none(redis_manager: QueueManager) -> None:
    first = jobs.SyncsAccount.dispatch("unused", "a", 1)
    assert first is not None
    assert jobs.SyncsAccount.dispatch("unused", "b", 1) is None
    assert jobs.SyncsAccount.dispatch("unused", "c", 2) is not None  # another unique_id
    assert Queue.pending_size() == 2
    assert redis_manager.cache.get(KEY) == first  # owned by the dispatch that took it
    assert 0 < (redis_manager.cache.ttl(KEY) or 0) <= 60  # unique_for


def test_the_lock_goes_when_the_job_succeeds(redis_manager: QueueManager, trace: Path) -> None:
    jobs.SyncsAccount.dispatch(str(trace), "first", 1)
    with worker(redis_manager):
        wait_until(lambda: lines(trace))
        wait_until(lambda: redis_manager.cache.get(KEY) is None)
    assert jobs.SyncsAccount.dispatch(str(trace), "again", 1) is not None


@pytest.fixture
def down(tmp_path: Path) -> Path:
    """A flag file: SyncsAccount raises while it exists."""
    flag = tmp_path / "down"
    flag.touch()
    return flag


def test_the_lock_is_kept_while_the_job_retries_and_goes_when_it_fails_for_good(
    redis_manager: QueueManager, trace: Path, down: Path
) -> None:
    jobs.SyncsAccount.dispatch(str(trace), "flaky", 1, str(down))  # tries=2, backoff=2 s
    with worker(redis_manager):
        wait_until(lambda: lines(trace))
        assert jobs.SyncsAccount.dispatch(str(trace), "during-backoff", 1) is None
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    assert redis_manager.cache.get(KEY) is None
    assert jobs.SyncsAccount.dispatch(str(trace), "after-failure", 1) is not None


def test_a_retried_job_never_releases_the_lock_of_a_newer_dispatch(
    redis_manager: QueueManager, trace: Path, down: Path
) -> None:
    old = jobs.SyncsAccount.dispatch(str(trace), "old", 1, str(down))
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    newer = jobs.SyncsAccount(str(trace), "newer", 1).on_queue("later").dispatch()
    assert newer is not None and redis_manager.cache.get(KEY) == newer
    down.unlink()
    assert redis_manager.failed.retry([old]).retried == 1  # same uuid, succeeds this time
    with worker(redis_manager):
        wait_until(lambda: len([line for line in lines(trace) if "old attempt=1" in line]) == 2)
        wait_until(lambda: Queue.pending_size() == 0)
    assert redis_manager.cache.get(KEY) == newer  # the old job's success did not free it


def test_until_processing_releases_the_lock_just_before_handle(
    redis_manager: QueueManager, trace: Path
) -> None:
    assert jobs.SyncsUntilProcessing.dispatch(str(trace), "first") is not None
    assert jobs.SyncsUntilProcessing.dispatch(str(trace), "duplicate") is None
    with worker(redis_manager):
        wait_until(lambda: len(lines(trace)) == 2)
    assert lines(trace)[1] == "lock held in handle: False"
    assert jobs.SyncsUntilProcessing.dispatch(str(trace), "next") is not None


def test_a_push_that_fails_gives_the_lock_back(lq_home: Path) -> None:
    app = Celery("down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    app.conf.broker_transport_options = {"max_retries": 1}
    manager = QueueManager(app, cache_url="memory://")
    with pytest.raises(QueueConnectionError):
        jobs.SyncsAccount.dispatch("unused", "a", 1)
    assert manager.cache.get(KEY) is None


def test_after_commit_keeps_the_lock_until_commit_and_a_rollback_frees_it(
    redis_manager: QueueManager, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/app.sqlite")
    with Session(engine) as session:
        session.execute(text("select 1"))
        dropped = jobs.SyncsAccount("unused", "a", 1).after_commit(session).dispatch()
        assert redis_manager.cache.get(KEY) == dropped
        session.rollback()
        assert redis_manager.cache.get(KEY) is None
        session.execute(text("select 1"))
        kept = jobs.SyncsAccount("unused", "b", 1).after_commit(session).dispatch()
        session.commit()
    assert redis_manager.cache.get(KEY) == kept and Queue.pending_size() == 1


def _dispatch_at_once(env: dict[str, str], start: multiprocessing.synchronize.Barrier) -> None:
    os.environ.update(env)
    from tests.apps import manager  # a fresh manager (and connections) in this process

    start.wait()
    job_id = jobs.SyncsAccount.dispatch("unused", f"pid{os.getpid()}", 1)
    manager.cache.close()
    raise SystemExit(0 if job_id is None else 3)  # 3: "I queued it"


@pytest.mark.parametrize("cache", ["redis", "sql"])
def test_eight_processes_dispatching_at_once_queue_exactly_one(
    redis_urls: ServiceUrls, postgres_url: str, cache: str, lq_home: Path
) -> None:
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_DATABASE": postgres_url,
        "LQ_TEST_CACHE": redis_urls.cache if cache == "redis" else postgres_url,
    }
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(8)
    processes = [context.Process(target=_dispatch_at_once, args=(env, start)) for _ in range(8)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert sorted(process.exitcode for process in processes) == [0] * 7 + [3]
    app = Celery("check", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, cache_url="memory://", make_current=False)
    assert manager.connection().pending_size() == 1

"""The worker's log says what happened to each job, in one line each."""

from __future__ import annotations

from pathlib import Path

from celery import Celery

from laravel_queue import QueueManager

from .. import jobs
from ..support import ServiceUrls, lq_running, wait_until


def test_releases_and_failures_are_logged_with_who_and_why(
    redis_urls: ServiceUrls, trace: Path, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'store.sqlite'}"
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=database, cache_url=redis_urls.cache)
    jobs.Limited.dispatch(str(trace), "first", "log")  # takes the group's one slot a minute
    jobs.Limited.dispatch(str(trace), "second", "log")  # released twice, then fails (tries=3)
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database,
    }
    with lq_running("--app", "tests.apps", "work", env=env) as worker:
        wait_until(lambda: manager.failed.count() == 1, timeout=60)
    log = "".join(worker.output)
    assert "released tests.jobs.Limited[" in log
    assert "by RateLimited('tests-per-minute') for 0.1s (attempt 1/3)" in log
    assert "(attempt 2/3)" in log
    assert "failed tests.jobs.Limited[" in log and "MaxAttemptsExceededError" in log
    # Celery's own line says how each job ended, not "succeeded"
    assert "] done in" in log and "] released in" in log
    assert "succeeded" not in log
    assert "Context impl" not in log and "Will assume non-transactional DDL" not in log

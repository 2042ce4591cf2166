"""The worker's log says what happened to each job, in one line each."""

from __future__ import annotations

import re
from pathlib import Path

from celery import Celery

from laravel_queue import QueueManager

from .. import jobs
from ..support import ServiceUrls, lq_running, publish_raw, wait_until


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


def test_a_final_failure_and_an_unregistered_message_are_one_readable_entry_each(
    redis_urls: ServiceUrls, trace: Path, tmp_path: Path
) -> None:
    """A job that failed for good was logged twice (the second time as Celery's "raised
    unexpected" with ~20 lines of this package's frames), each pool process logged seven
    lines of Alembic plugins, and an unregistered message dumped ~25 lines."""
    database = f"sqlite:///{tmp_path / 'store.sqlite'}"
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=database, cache_url=redis_urls.cache)
    failing = jobs.AlwaysFails.dispatch(str(trace), "final")  # tries = 2
    publish_raw(app, [[], {}, None], {"task": "tests.jobs.NoSuchJob", "id": "stray"})
    done = jobs.Traced.dispatch(str(trace), "fine")
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database,
    }
    with lq_running("--app", "tests.apps", "work", "-c", "1", env=env) as worker:
        wait_until(lambda: manager.failed.count() == 2, timeout=60)
        wait_until(lambda: "] done in" in "".join(worker.output), timeout=30)
    log = "".join(worker.output)
    assert log.count("Traceback") == 1, log
    assert re.search(
        rf"tests.jobs.AlwaysFails\[{failing}\] raised ValueError: always fails on attempt "
        r"1/2; released for 0s\n",
        log,
    ), log
    final = re.search(
        rf"failed tests.jobs.AlwaysFails\[{failing}\] on attempt 2/2: ValueError: always "
        r"fails\nTraceback \(most recent call last\):\n(?P<frames>(  .*\n)+)ValueError",
        log,
    )
    assert final, log
    assert "laravel_queue" not in final["frames"] and "tests/jobs.py" in final["frames"]
    assert "raised unexpected" not in log and "raised expected" not in log
    assert "setup plugin" not in log and "alembic" not in log
    refused = [line for line in log.splitlines() if "tests.jobs.NoSuchJob" in line]
    assert len(refused) == 1 and "refused tests.jobs.NoSuchJob[stray-0]" in refused[0], log
    assert "recorded in failed_jobs" in refused[0]
    assert "The full contents of the message" not in log
    assert re.search(rf"Traced\[{done}\] done in \d+(\.\d)?ms\n", log), log
    assert "laravel_queue.transport.redis:Transport" not in log
    assert f".> failed jobs: {database}" in log

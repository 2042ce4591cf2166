"""ThrottlesExceptions: swallowed and released with backoff in minutes, the circuit opening at
max_attempts, a success clearing it, and when / delete_when / fail_when / report."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from laravel_queue import QueueManager, RateLimiter
from laravel_queue.middleware import ThrottlesExceptions

from .. import jobs
from ..support import ServiceUrls, lines, lq_running, wait_until, worker


def runs(trace: Path) -> list[str]:
    return [line for line in lines(trace) if "attempt=" in line]


def test_throttled_exceptions_are_released_after_backoff_minutes_without_counting_as_exceptions(
    redis_manager: QueueManager, trace: Path
) -> None:
    # max_exceptions = 1 would fail it at the first exception it saw; backoff(0.01) = 0.6 s.
    started = time.monotonic()
    jobs.CallsAFlakyService.dispatch(str(trace), "flaky", 1)
    with worker(redis_manager):
        wait_until(lambda: len(runs(trace)) == 2, timeout=30)
        wait_until(lambda: redis_manager.connection().size() == 0)
    assert [line.split()[1] for line in runs(trace)] == ["attempt=1", "attempt=2"]
    assert time.monotonic() - started >= 0.6
    assert redis_manager.failed.count() == 0
    assert RateLimiter.attempts("throttles_exceptions:flaky") == 0  # the success cleared it


def parked_attempts(manager: QueueManager) -> list[int]:
    """The `attempts` of each job parked in the delayed store of the default queue."""
    client = redis.Redis.from_url(manager.cache_url)
    members = client.zrange("lq:delayed:default:default", 0, -1)
    return [json.loads(member)["m"]["headers"]["lq"]["attempts"] for member in members]


def test_after_max_attempts_exceptions_jobs_are_released_without_running(
    redis_manager: QueueManager, trace: Path
) -> None:
    jobs.CallsAFlakyService.dispatch(str(trace), "down", 99)  # ThrottlesExceptions(2, 60)
    with worker(redis_manager):
        wait_until(lambda: len(runs(trace)) == 2, timeout=30)
        # The third reservation parks the job again: its header then counts 3 attempts.
        wait_until(lambda: parked_attempts(redis_manager) == [3], timeout=30)
    assert len(runs(trace)) == 2  # the third reservation did not run handle()
    assert RateLimiter.attempts("throttles_exceptions:flaky") == 2
    assert redis_manager.failed.count() == 0


def test_exceptions_when_rejects_are_raised_to_the_usual_rules(
    redis_manager: QueueManager, trace: Path
) -> None:
    jobs.CallsAFlakyService.dispatch(str(trace), "gone", 5, "key", "when")
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    assert len(runs(trace)) == 1  # max_exceptions = 1 counted it
    assert "KeyError" in redis_manager.failed.all()[0].exception


def test_delete_when_ends_the_job_as_a_success(redis_manager: QueueManager, trace: Path) -> None:
    jobs.CallsAFlakyService.dispatch(str(trace), "gone", 5, "key", "delete_when")
    with worker(redis_manager):
        wait_until(lambda: runs(trace))
        wait_until(lambda: redis_manager.connection().size() == 0)
    assert len(runs(trace)) == 1 and redis_manager.failed.count() == 0


def test_fail_when_fails_the_job_at_once(redis_manager: QueueManager, trace: Path) -> None:
    failed = jobs.CallsAFlakyService.dispatch(str(trace), "gone", 5, "key", "fail_when")
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    assert len(runs(trace)) == 1
    [row] = redis_manager.failed.all()
    assert row.uuid == failed and "KeyError" in row.exception
    assert "gone failed=KeyError fresh=True" in lines(trace)


def test_keys_per_class_per_job_and_by_key() -> None:
    job = jobs.CallsAFlakyService("unused", "x", 0)
    prefix = "throttles_exceptions:"
    assert ThrottlesExceptions().throttle_key(job) == prefix + "tests.jobs.CallsAFlakyService"
    assert ThrottlesExceptions().by("stripe").throttle_key(job) == prefix + "stripe"
    assert ThrottlesExceptions().by_job().throttle_key(job) == prefix + job.job_id
    assert ThrottlesExceptions().with_prefix("p:").by(1).throttle_key(job) == "p:1"


def test_report_logs_the_throttled_exceptions_it_accepts(
    sqlite_manager: QueueManager, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(_job: object) -> None:
        raise RuntimeError("service down")

    job = jobs.CallsAFlakyService("unused", "x", 0)
    with caplog.at_level(logging.ERROR, logger="laravel_queue.worker"):
        ThrottlesExceptions().by("quiet").handle(job, boom)
        ThrottlesExceptions().by("loud").report().handle(job, boom)
        ThrottlesExceptions().by("picky").report(lambda exc: "timeout" in str(exc)).handle(
            job, boom
        )
    assert [record.message for record in caplog.records] == [
        f"tests.jobs.CallsAFlakyService[{job.job_id}] raised RuntimeError('service down') "
        "(throttled)"
    ]
    assert RateLimiter.attempts("throttles_exceptions:loud") == 1


def test_a_timeout_is_not_throttled_but_follows_the_job_timeout_rules(
    redis_urls: ServiceUrls, trace: Path, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path}/store.sqlite"
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=database, cache_url=redis_urls.cache)
    jobs.TimesOutWhileThrottled.dispatch(str(trace), "slow")  # timeout=1, fail_on_timeout
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database,
    }
    with lq_running("--app", "tests.apps", "work", "--sleep", "0.1", env=env) as worker:
        wait_until(lambda: manager.failed.count() == 1, timeout=60)
    assert "TimeoutExceededError" in manager.failed.all()[0].exception, worker.output
    assert RateLimiter.attempts("throttles_exceptions:tests.jobs.TimesOutWhileThrottled") == 0

"""RateLimited: Laravel's release rules, dont_release, and waiting without spending attempts."""

from __future__ import annotations

import time
from pathlib import Path

from laravel_queue import QueueManager

from .. import jobs
from ..support import lines, wait_until, worker


def ran(trace: Path) -> list[str]:
    return [line.split()[0] for line in lines(trace) if "attempt=" in line]


def test_a_limited_job_is_released_and_each_release_spends_an_attempt(
    redis_manager: QueueManager, trace: Path
) -> None:
    jobs.Limited.dispatch(str(trace), "first", "g1")
    second = jobs.Limited.dispatch(str(trace), "second", "g1")
    jobs.Limited.dispatch(str(trace), "other", "g2")  # its own key: not limited
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    assert ran(trace) == ["first", "other"]
    [row] = redis_manager.failed.all()
    assert row.uuid == second
    assert "MaxAttemptsExceededError" in row.exception  # 3 releases used the 3 tries
    assert "second failed=MaxAttemptsExceededError fresh=True" in lines(trace)


def test_dont_release_ends_a_limited_job_as_a_success(
    redis_manager: QueueManager, trace: Path
) -> None:
    for name in ("first", "second"):
        jobs.Limited.dispatch(str(trace), name, "g1", "dont_release")
    with worker(redis_manager):
        wait_until(lambda: ran(trace))
        wait_until(lambda: redis_manager.connection().size() == 0)
    assert ran(trace) == ["first"]
    assert redis_manager.failed.count() == 0


def test_release_after_without_counting_lets_jobs_wait_their_turn(
    redis_manager: QueueManager, trace: Path
) -> None:
    started = time.monotonic()
    for n in range(3):
        jobs.WaitsItsTurn.dispatch(str(trace), f"w{n}", "g", "wait")  # tries = 1
    with worker(redis_manager):
        wait_until(lambda: len(ran(trace)) == 3, timeout=30)
    assert sorted(ran(trace)) == ["w0", "w1", "w2"]
    assert all("attempt=1" in line for line in lines(trace))
    assert redis_manager.failed.count() == 0
    assert time.monotonic() - started >= 2  # one per second: three windows


def test_an_unknown_limiter_lets_the_job_through(redis_manager: QueueManager, trace: Path) -> None:
    for name in ("a", "b"):
        jobs.Limited.dispatch(str(trace), name, "g", "unknown")
    with worker(redis_manager):
        wait_until(lambda: len(ran(trace)) == 2)
    assert sorted(ran(trace)) == ["a", "b"]
    assert all("attempt=1" in line for line in lines(trace))  # neither was released

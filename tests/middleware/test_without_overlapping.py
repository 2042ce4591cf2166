"""WithoutOverlapping: Laravel's release rules, the lock given back in finally, TTLs, shared keys.

A second worker holding the lock is played by the test taking it itself; the proof with real
worker processes racing for one key is in tests/worker/test_locks_across_processes.py.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from laravel_queue import QueueManager
from laravel_queue.middleware import WithoutOverlapping

from .. import jobs
from ..support import lines, wait_until, worker

KEY = "overlap:tests.jobs.Overlapping:k"


def ran(trace: Path) -> list[str]:
    return [line.split()[0] for line in lines(trace) if "attempt=" in line]


def test_a_job_finding_the_lock_taken_is_released_and_each_release_spends_an_attempt(
    redis_manager: QueueManager, trace: Path
) -> None:
    assert redis_manager.cache.lock(KEY, 60).acquire()
    blocked = jobs.Overlapping.dispatch(str(trace), "blocked")  # tries = 3
    jobs.Overlapping.dispatch(str(trace), "other", "another-key")
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    assert ran(trace) == ["other"]
    [row] = redis_manager.failed.all()
    assert row.uuid == blocked and "MaxAttemptsExceededError" in row.exception


def test_dont_release_ends_a_blocked_job_as_a_success(
    redis_manager: QueueManager, trace: Path
) -> None:
    assert redis_manager.cache.lock(KEY, 60).acquire()
    jobs.Overlapping.dispatch(str(trace), "blocked", "k", "dont_release")
    with worker(redis_manager):
        wait_until(lambda: redis_manager.connection().size() == 0)
    assert ran(trace) == [] and redis_manager.failed.count() == 0


def test_release_after_without_counting_waits_for_the_lock_without_spending_attempts(
    redis_manager: QueueManager, trace: Path
) -> None:
    lock = redis_manager.cache.lock(KEY, 60)
    assert lock.acquire()
    jobs.WaitsForTheLock.dispatch(str(trace), "waiter", "k", "wait")  # tries = 1
    threading.Timer(1.5, lock.release).start()
    with worker(redis_manager):
        wait_until(lambda: ran(trace), timeout=30)
    assert [line for line in lines(trace) if "attempt=" in line] == [
        line for line in lines(trace) if "attempt=1" in line
    ]
    assert redis_manager.failed.count() == 0


def test_the_lock_is_given_back_when_the_job_raises(
    redis_manager: QueueManager, trace: Path
) -> None:
    jobs.Overlapping.dispatch(str(trace), "boom")  # raises on each of its 3 tries
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    assert ran(trace) == ["boom"] * 3  # the lock was free again for every retry
    assert "RuntimeError" in redis_manager.failed.all()[0].exception
    assert redis_manager.cache.get(KEY) is None


def test_a_shared_key_blocks_every_class_using_it(redis_manager: QueueManager, trace: Path) -> None:
    assert redis_manager.cache.lock("overlap:k", 60).acquire()
    jobs.Overlapping.dispatch(str(trace), "shared", "k", "shared")
    jobs.Overlapping.dispatch(str(trace), "own-class-key", "k")
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    assert ran(trace) == ["own-class-key"]


def test_every_lock_expires_by_default_a_little_after_the_hard_time_limit(
    sqlite_manager: QueueManager,
) -> None:
    job = jobs.Overlapping("unused", "x")
    assert WithoutOverlapping("k").lock_ttl(job) == 60 + 6 + 10  # --timeout 60, killed at 66
    assert WithoutOverlapping("k").expire_after(timedelta(minutes=3)).lock_ttl(job) == 180
    assert WithoutOverlapping("k", expire_after=5).lock_ttl(job) == 5
    with pytest.raises(ValueError, match="every lock expires"):
        WithoutOverlapping("k").expire_after(0)


def test_keys_follow_laravel_per_class_shared_and_prefixed() -> None:
    job = jobs.Overlapping("unused", "x")
    assert WithoutOverlapping(7).lock_key(job) == "overlap:tests.jobs.Overlapping:7"
    assert WithoutOverlapping(7).shared().lock_key(job) == "overlap:7"
    assert WithoutOverlapping(7).with_prefix("mine:").shared().lock_key(job) == "mine:7"


def test_the_lock_is_held_while_the_job_runs_and_given_back_after(
    redis_manager: QueueManager, trace: Path
) -> None:
    jobs.Overlapping.dispatch(str(trace), "first")
    with worker(redis_manager):
        wait_until(lambda: redis_manager.connection().size() == 0 and ran(trace))
    [held] = [line for line in lines(trace) if line.startswith("held")]
    key, ttl = held.split()[1], float(held.split("ttl=")[1])
    assert key == KEY and 70 < ttl <= 76  # the job's 60 s timeout, killed at 66, + 10
    assert redis_manager.cache.get(KEY) is None

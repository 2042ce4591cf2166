"""RateLimiter and Limit: Laravel's primitives, the same on the Redis and SQL cache stores."""

from __future__ import annotations

import sys
import time

import pytest

from laravel_queue import Limit, QueueManager, RateLimiter


@pytest.fixture(params=["sqlite_manager", "redis_manager"])
def limiter_manager(request: pytest.FixtureRequest) -> QueueManager:
    manager: QueueManager = request.getfixturevalue(request.param)
    return manager  # the newest manager is the current one RateLimiter uses


def test_limit_constructors_follow_laravel() -> None:
    assert Limit.per_second(5) == Limit(5, 1)
    assert Limit.per_minute(10) == Limit(10, 60)
    assert Limit.per_minutes(5, 100) == Limit(100, 300)  # Laravel's argument order
    assert Limit.per_hour(2, 3) == Limit(2, 3 * 3600)
    assert Limit.per_day(1) == Limit(1, 86400)
    assert Limit.per_minute(3).by(42).key == "42"
    assert Limit.none().unlimited and Limit.none().max_attempts == sys.maxsize
    assert not Limit.per_second(1).unlimited


def test_named_limiters_are_registered_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RateLimiter, "_limiters", {})  # leave no limiter behind
    RateLimiter.for_("backups", lambda job: Limit.per_hour(1).by(job))
    limiter = RateLimiter.limiter("backups")
    assert limiter is not None and limiter("u7") == Limit(1, 3600, "u7")
    assert RateLimiter.limiter("nope") is None


def test_attempt_runs_the_callback_until_the_window_is_used_up(
    limiter_manager: QueueManager,
) -> None:
    calls: list[int] = []
    results = [RateLimiter.attempt("send", 2, lambda: calls.append(1), 0.5) for _ in range(3)]
    assert results == [True, True, False] and len(calls) == 2
    assert RateLimiter.attempt("other", 1, lambda: "sent") == "sent"  # the callback's value
    assert 0 < RateLimiter.available_in("send") <= 0.5
    time.sleep(0.6)
    assert RateLimiter.attempt("send", 2, lambda: None, 0.5) is True


def test_hit_attempts_remaining_and_clear(limiter_manager: QueueManager) -> None:
    assert RateLimiter.attempts("k") == 0 and RateLimiter.available_in("k") == 0
    assert [RateLimiter.hit("k", 30) for _ in range(3)] == [1, 2, 3]
    assert RateLimiter.attempts("k") == 3
    assert RateLimiter.remaining("k", 5) == 2 and RateLimiter.remaining("k", 2) == 0
    assert RateLimiter.too_many_attempts("k", 3) and not RateLimiter.too_many_attempts("k", 4)
    assert 29 < RateLimiter.available_in("k") <= 30
    RateLimiter.clear("k")
    assert RateLimiter.attempts("k") == 0 and not RateLimiter.too_many_attempts("k", 1)

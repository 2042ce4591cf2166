"""`RateLimiter` and `Limit` (Laravel: Illuminate\\Cache\\RateLimiter, RateLimiting\\Limit).

Counters live in the manager's cache store, so a limit holds across every worker process and
machine sharing it. A window is fixed: it starts at its first hit and lasts `decay_seconds`.
`attempt` checks and counts in one atomic step (one Lua call on Redis), so concurrent workers
can never both take the last slot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypeVar

from laravel_queue.cache.base import CacheStore, Window
from laravel_queue.manager import current_manager

T = TypeVar("T")

KEY_PREFIX = "limiter:"

LimitsFor = Callable[[Any], "Limit | list[Limit]"]


@dataclass(frozen=True)
class Limit:
    """At most `max_attempts` per `decay_seconds`, counted per `key` (Laravel: Limit)."""

    max_attempts: int
    decay_seconds: float
    key: str = ""

    @classmethod
    def per_second(cls, max_attempts: int, decay_seconds: float = 1) -> Limit:
        return cls(max_attempts, decay_seconds)

    @classmethod
    def per_minute(cls, max_attempts: int, decay_minutes: float = 1) -> Limit:
        return cls(max_attempts, 60 * decay_minutes)

    @classmethod
    def per_minutes(cls, decay_minutes: float, max_attempts: int) -> Limit:
        """Laravel's argument order: `Limit::perMinutes(5, 100)` is 100 per 5 minutes."""
        return cls(max_attempts, 60 * decay_minutes)

    @classmethod
    def per_hour(cls, max_attempts: int, decay_hours: float = 1) -> Limit:
        return cls(max_attempts, 3600 * decay_hours)

    @classmethod
    def per_day(cls, max_attempts: int, decay_days: float = 1) -> Limit:
        return cls(max_attempts, 86400 * decay_days)

    @classmethod
    def none(cls) -> Limit:
        """No limit at all (Laravel: Limit::none(), an `Unlimited`)."""
        return cls(sys.maxsize, 0)

    @property
    def unlimited(self) -> bool:
        return self.max_attempts == sys.maxsize

    def by(self, key: object) -> Limit:
        """Count separately per `key` (a user id, a tenant...)."""
        return replace(self, key=str(key))


class RateLimiter:
    """Named limiters and the counting primitives, on the current manager's cache store.

    Laravel: the `RateLimiter` facade. `for_` (a trailing underscore: `for` is a keyword)
    names a function from a job to its limits, used by the `RateLimited` middleware.
    """

    _limiters: ClassVar[dict[str, LimitsFor]] = {}

    @classmethod
    def for_(cls, name: str, limits: LimitsFor) -> None:
        cls._limiters[name] = limits

    @classmethod
    def limiter(cls, name: str) -> LimitsFor | None:
        return cls._limiters.get(name)

    @staticmethod
    def attempt(
        key: str, max_attempts: int, callback: Callable[[], T], decay_seconds: float = 60
    ) -> T | bool:
        """Run `callback` if `key` has attempts left in its window, and count it; False when
        it has none. Counting comes first, in the same atomic step as the check, so a
        callback that raises has still used its attempt (Laravel counts after the callback)."""
        if not RateLimiter.acquire(key, max_attempts, decay_seconds).allowed:
            return False
        return callback() or True

    @staticmethod
    def acquire(key: str, max_attempts: int, decay_seconds: float = 60) -> Window:
        """Check and count in one atomic step: whether `key` had an attempt left (now used),
        its count, and the seconds until its window resets."""
        return _store().attempt_window(KEY_PREFIX + key, max_attempts, decay_seconds)

    @staticmethod
    def too_many_attempts(key: str, max_attempts: int) -> bool:
        return RateLimiter.attempts(key) >= max_attempts

    @staticmethod
    def hit(key: str, decay_seconds: float = 60) -> int:
        """Count one attempt; the window starts with the first. Returns the attempts so far."""
        return _store().increment(KEY_PREFIX + key, 1, ttl=decay_seconds)

    @staticmethod
    def attempts(key: str) -> int:
        return int(_store().get(KEY_PREFIX + key) or 0)

    @staticmethod
    def remaining(key: str, max_attempts: int) -> int:
        return max(0, max_attempts - RateLimiter.attempts(key))

    @staticmethod
    def clear(key: str) -> None:
        _store().forget(KEY_PREFIX + key)

    @staticmethod
    def available_in(key: str) -> float:
        """Seconds until `key`'s window resets (0 when it has none)."""
        return _store().ttl(KEY_PREFIX + key) or 0.0


def _store() -> CacheStore:
    return current_manager().cache

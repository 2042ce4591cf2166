"""`RateLimited(name)` (Laravel: Illuminate\\Queue\\Middleware\\RateLimited).

The named limiter (`RateLimiter.for_(name, fn)`) gives the job's limits. For each limit in
turn, one atomic check-and-count on the shared cache store; the first that is used up stops
the job: it is released for `release_after` seconds, or until the window resets plus 3 s
(Laravel's margin) — spending an attempt, as in Laravel, unless `count_attempt=False` — or,
after `dont_release()`, it ends as a success without running. Earlier limits in the list have
already counted this run (Laravel's behaviour). An unknown name or `Limit.none()` lets the job
through.
"""

from __future__ import annotations

import hashlib

from laravel_queue.dispatchable import Job, Next
from laravel_queue.facades.rate_limiter import Limit, RateLimiter
from laravel_queue.middleware.base import RELEASE_MARGIN_SECONDS


class RateLimited:
    def __init__(self, name: str) -> None:
        self.name = name
        self.release_delay: float | None = None
        self.count_attempt = True
        self.should_release = True

    def __repr__(self) -> str:
        return f"RateLimited({self.name!r})"

    def release_after(self, seconds: float, *, count_attempt: bool = True) -> RateLimited:
        """Release a limited job after `seconds` instead of when the window resets;
        `count_attempt=False` lets it wait without spending an attempt."""
        self.release_delay = seconds
        self.count_attempt = count_attempt
        return self

    def dont_release(self) -> RateLimited:
        """A limited job ends as a success without running (Laravel: dontRelease)."""
        self.should_release = False
        return self

    def handle(self, job: Job, next: Next) -> None:
        limiter = RateLimiter.limiter(self.name)
        limits = limiter(job) if limiter is not None else []
        for limit in limits if isinstance(limits, list) else [limits]:
            if limit.unlimited:
                continue
            window = RateLimiter.acquire(
                self.limit_key(limit), limit.max_attempts, limit.decay_seconds
            )
            if not window.allowed:
                if self.should_release:
                    delay = self.release_delay
                    if delay is None:
                        delay = window.available_in + RELEASE_MARGIN_SECONDS
                    job.release(delay, count_attempt=self.count_attempt)
                return
        next(job)

    def limit_key(self, limit: Limit) -> str:
        """The RateLimiter key counting `limit` (Laravel: md5($limiterName . $limit->key))."""
        return hashlib.md5((self.name + limit.key).encode()).hexdigest()

"""`WithoutOverlapping(key)` (Laravel: Illuminate\\Queue\\Middleware\\WithoutOverlapping).

Jobs sharing a key never run at the same time, on any worker that shares the cache store:
the job takes an owner-token lock before it runs and gives it back in `finally`. A job that
finds the lock taken is released (after `release_after` seconds, 0 by default) — spending an
attempt, as in Laravel, unless `count_attempt=False` — or, after `dont_release()`, ends as a
success without running.

Unlike Laravel, the lock always expires (DESIGN §9.1): by default a little after the job's
hard time limit, so a worker killed mid-job (SIGKILL, a lost machine) blocks the key no longer
than the job could have run; `expire_after` sets it. Only the owner's token releases it, so a
job whose lock already expired cannot free the lock a later job took since.
"""

from __future__ import annotations

from laravel_queue.dispatchable import Job, Next
from laravel_queue.durations import Delay, hard_limit, to_seconds

DEFAULT_PREFIX = "overlap:"  # Laravel: laravel-queue-overlap:
LOCK_MARGIN_SECONDS = 10
"""Past the hard time limit, for the pool to kill the child and the finally clause to run."""
NO_TIMEOUT_LOCK_SECONDS = 24 * 3600
"""A job with `timeout = 0` has no limit to go by: its lock lasts a day unless expire_after."""


class WithoutOverlapping:
    def __init__(
        self, key: object = "", release_after: Delay = 0, expire_after: Delay | None = None
    ) -> None:
        self.key = str(key)
        self.release_delay: Delay | None = release_after
        self.count_attempt = True
        self.expires_after: float | None = None
        self.prefix = DEFAULT_PREFIX
        self.share_key = False
        if expire_after is not None:
            self.expire_after(expire_after)

    def __repr__(self) -> str:
        return f"WithoutOverlapping({self.key!r})"

    def release_after(self, delay: Delay, *, count_attempt: bool = True) -> WithoutOverlapping:
        """Release a job that finds the lock taken after `delay`; `count_attempt=False` lets
        it wait without spending an attempt (DESIGN §9.2)."""
        self.release_delay = delay
        self.count_attempt = count_attempt
        return self

    def dont_release(self) -> WithoutOverlapping:
        """A job that finds the lock taken ends as a success without running."""
        self.release_delay = None
        return self

    def expire_after(self, ttl: Delay) -> WithoutOverlapping:
        """How long the lock may be held at most (seconds, timedelta or datetime)."""
        seconds = to_seconds(ttl)
        if seconds <= 0:
            raise ValueError("expire_after needs a positive duration: every lock expires")
        self.expires_after = seconds
        return self

    def shared(self) -> WithoutOverlapping:
        """Share the key with every job class using it, not only this job's class."""
        self.share_key = True
        return self

    def with_prefix(self, prefix: str) -> WithoutOverlapping:
        self.prefix = prefix
        return self

    def lock_key(self, job: Job) -> str:
        if self.share_key:
            return f"{self.prefix}{self.key}"
        return f"{self.prefix}{job.display_name()}:{self.key}"

    def lock_ttl(self, job: Job) -> float:
        if self.expires_after is not None:
            return self.expires_after
        timeout = job.run_timeout
        return hard_limit(timeout) + LOCK_MARGIN_SECONDS if timeout else NO_TIMEOUT_LOCK_SECONDS

    def handle(self, job: Job, next: Next) -> None:
        lock = job.manager.cache.lock(self.lock_key(job), self.lock_ttl(job))
        if lock.acquire():
            try:
                next(job)
            finally:
                lock.release_or_let_expire()
        elif self.release_delay is not None:
            job.release(self.release_delay, count_attempt=self.count_attempt)

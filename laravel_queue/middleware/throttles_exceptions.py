"""`ThrottlesExceptions(max_attempts, decay_seconds)` (Laravel: ThrottlesExceptions).

A circuit breaker for jobs that call a flaky service. Each exception the job raises is
counted (per job class, or per `by(key)` / `by_job()`) and swallowed: the job is released
after `backoff` **minutes** (Laravel's unit; 0 by default), spending an attempt but not
counting towards `max_exceptions`. Once `max_attempts` exceptions fall in one `decay_seconds`
window, jobs sharing the key are not run at all but released until the window resets (+3 s).
A success clears the count.

Per exception, in Laravel's order: `when(cb)` false → re-raised (the job's usual retry rules);
`report(cb)` → logged; `delete_when(...)` → the job ends as a success; `fail_when(...)` →
the job fails now; otherwise counted and released.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded

from laravel_queue.dispatchable import Job, Next
from laravel_queue.facades.rate_limiter import RateLimiter
from laravel_queue.middleware.base import RELEASE_MARGIN_SECONDS

logger = logging.getLogger("laravel_queue.worker")

DEFAULT_PREFIX = "throttles_exceptions:"  # Laravel: laravel_throttles_exceptions:

ExceptionTest = Callable[[BaseException], bool]
ExceptionMatch = type[BaseException] | ExceptionTest


def _as_test(match: ExceptionMatch) -> ExceptionTest:
    if isinstance(match, type):
        return lambda exc: isinstance(exc, match)
    return match


class ThrottlesExceptions:
    def __init__(self, max_attempts: int = 10, decay_seconds: float = 600) -> None:
        self.max_attempts = max_attempts
        self.decay_seconds = decay_seconds
        self.retry_after_minutes: float | Callable[[BaseException], float] = 0
        self.key: str | None = None
        self.by_job_id = False
        self.prefix = DEFAULT_PREFIX
        self.applies: ExceptionTest | None = None
        self.reports: ExceptionTest | None = None
        self.deletes: list[ExceptionTest] = []
        self.fails: list[ExceptionTest] = []

    def backoff(self, minutes: float | Callable[[BaseException], float]) -> ThrottlesExceptions:
        """Minutes (Laravel's unit) before a throttled job runs again; or a function of the
        exception giving them."""
        self.retry_after_minutes = minutes
        return self

    def by(self, key: object) -> ThrottlesExceptions:
        """Count exceptions under `key`, shared by every job that uses it."""
        self.key = str(key)
        return self

    def by_job(self) -> ThrottlesExceptions:
        """Count exceptions of this job only (its uuid)."""
        self.by_job_id = True
        return self

    def when(self, applies: ExceptionTest) -> ThrottlesExceptions:
        """Throttle only the exceptions `applies(exc)` accepts; others are re-raised."""
        self.applies = applies
        return self

    def report(self, reports: ExceptionTest | None = None) -> ThrottlesExceptions:
        """Log throttled exceptions (all, or those `reports(exc)` accepts) at ERROR level."""
        self.reports = reports or (lambda _exc: True)
        return self

    def delete_when(self, match: ExceptionMatch) -> ThrottlesExceptions:
        """An exception of this class (or accepted by this function) ends the job as done."""
        self.deletes.append(_as_test(match))
        return self

    def fail_when(self, match: ExceptionMatch) -> ThrottlesExceptions:
        """An exception of this class (or accepted by this function) fails the job now."""
        self.fails.append(_as_test(match))
        return self

    def with_prefix(self, prefix: str) -> ThrottlesExceptions:
        self.prefix = prefix
        return self

    def throttle_key(self, job: Job) -> str:
        if self.key:
            return self.prefix + self.key
        if self.by_job_id:
            return self.prefix + job.job_id
        return self.prefix + job.display_name()

    def handle(self, job: Job, next: Next) -> None:
        key = self.throttle_key(job)
        if RateLimiter.too_many_attempts(key, self.max_attempts):
            job.release(RateLimiter.available_in(key) + RELEASE_MARGIN_SECONDS)
            return
        try:
            next(job)
        except SoftTimeLimitExceeded:
            raise  # a timeout is the worker's to settle, as in Laravel where it kills the process
        except Exception as exc:
            if self.applies is not None and not self.applies(exc):
                raise
            if self.reports is not None and self.reports(exc):
                logger.error(
                    "%s[%s] raised %r (throttled)",
                    job.display_name(),
                    job.job_id,
                    exc,
                    exc_info=exc,
                )
            if any(test(exc) for test in self.deletes):
                job.delete()
            elif any(test(exc) for test in self.fails):
                job.fail(exc)
            else:
                RateLimiter.hit(key, self.decay_seconds)
                job.release(self._minutes(exc) * 60)
            return
        RateLimiter.clear(key)

    def _minutes(self, exc: BaseException) -> float:
        minutes = self.retry_after_minutes
        return minutes(exc) if callable(minutes) else minutes

"""`Release.when(...)` / `Release.unless(...)` (Laravel 13:
Illuminate\\Queue\\Middleware\\Release).

Like `Skip`, the condition is settled when the middleware is built (in the job's
`middleware()`, on the worker, just before the job would run). A job it releases goes back
on its queue after `release_after` without running `handle()`: the run counts as an attempt
(Laravel's rule; pass `count_attempt=False` to wait without spending one), nothing of a
success follows (its chain waits, its batch does not count it, a unique lock stays held).
"""

from __future__ import annotations

from dataclasses import dataclass

from laravel_queue.dispatchable import Job, Next
from laravel_queue.durations import Delay
from laravel_queue.middleware.skip import Condition, settle


@dataclass(frozen=True)
class Release:
    release: bool
    release_after: Delay = 0
    count_attempt: bool = True

    @classmethod
    def when(
        cls, condition: Condition, release_after: Delay = 0, *, count_attempt: bool = True
    ) -> Release:
        """Release the job for `release_after` (seconds or a timedelta) if `condition` (a
        bool, or a callable returning one) is true."""
        return cls(settle(condition), release_after, count_attempt)

    @classmethod
    def unless(
        cls, condition: Condition, release_after: Delay = 0, *, count_attempt: bool = True
    ) -> Release:
        """Release the job unless `condition` is true."""
        return cls(not settle(condition), release_after, count_attempt)

    def handle(self, job: Job, next: Next) -> None:
        if self.release:
            job.release(self.release_after, count_attempt=self.count_attempt)
        else:
            next(job)

"""`Skip.when(...)` / `Skip.unless(...)` (Laravel: Illuminate\\Queue\\Middleware\\Skip).

The condition is settled when the middleware is built — in the job's `middleware()`, so on
the worker, just before the job would run — and a skipped job ends as a success: `handle`
does not run, nothing is retried, no `failed_jobs` row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from laravel_queue.dispatchable import Job, Next

Condition = bool | Callable[[], bool]


def settle(condition: Condition) -> bool:
    """The condition's value now (a callable is called once, here)."""
    return bool(condition() if callable(condition) else condition)


@dataclass(frozen=True)
class Skip:
    skip: bool

    @classmethod
    def when(cls, condition: Condition) -> Skip:
        """Skip the job if `condition` (a bool, or a callable returning one) is true."""
        return cls(settle(condition))

    @classmethod
    def unless(cls, condition: Condition) -> Skip:
        """Skip the job unless `condition` is true."""
        return cls(not settle(condition))

    def handle(self, job: Job, next: Next) -> None:
        if not self.skip:
            next(job)

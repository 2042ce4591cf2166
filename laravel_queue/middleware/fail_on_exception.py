"""`FailOnException` (Laravel 12.19+: Illuminate\\Queue\\Middleware\\FailOnException).

Some exceptions mean retrying cannot help — a record that no longer exists, a card that was
declined. When the job raises one of them, it fails at once (`failed()` runs, a `failed_jobs`
row is written) instead of being released for its remaining attempts; any other exception
follows the job's usual `tries`/`backoff` rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from celery.exceptions import SoftTimeLimitExceeded

from laravel_queue.dispatchable import Job, Next

Matcher = Callable[[BaseException, "Job"], bool]


class FailOnException:
    def __init__(
        self, exceptions: type[BaseException] | Iterable[type[BaseException]] | Matcher
    ) -> None:
        """`exceptions`: an exception class or several (subclasses match too), or a callable
        `(exc, job) -> bool` deciding for each exception."""
        if isinstance(exceptions, type):
            classes: tuple[type[BaseException], ...] = (exceptions,)
        elif callable(exceptions):
            self.matches: Matcher = exceptions
            return
        else:
            classes = tuple(exceptions)
        self.matches = lambda exc, _job: isinstance(exc, classes)

    def handle(self, job: Job, next: Next) -> None:
        try:
            next(job)
        except SoftTimeLimitExceeded:
            raise  # a timeout follows the job's timeout rules (Laravel's never reach middleware)
        except Exception as exc:
            if self.matches(exc, job):
                job.fail(exc)
            raise  # as in Laravel: the worker sees a job that has failed, so no release

"""Job middleware (Laravel: Illuminate\\Queue\\Middleware).

A middleware is any object with `handle(job, next)`; calling `next(job)` continues to the
next middleware and finally to the job's `handle()`. Returning without calling `next` ends
the job as a success (Laravel's rule).
"""

from laravel_queue.dispatchable import Middleware, Next
from laravel_queue.middleware.fail_on_exception import FailOnException
from laravel_queue.middleware.rate_limited import RateLimited
from laravel_queue.middleware.release import Release
from laravel_queue.middleware.skip import Skip
from laravel_queue.middleware.skip_if_batch_cancelled import SkipIfBatchCancelled
from laravel_queue.middleware.throttles_exceptions import ThrottlesExceptions
from laravel_queue.middleware.without_overlapping import WithoutOverlapping

__all__ = [
    "FailOnException",
    "Middleware",
    "Next",
    "RateLimited",
    "Release",
    "Skip",
    "SkipIfBatchCancelled",
    "ThrottlesExceptions",
    "WithoutOverlapping",
]

"""Job middleware (Laravel: Illuminate\\Queue\\Middleware).

A middleware is any object with `handle(job, next)`; calling `next(job)` continues to the
next middleware and finally to the job's `handle()`. Returning without calling `next` ends
the job as a success (Laravel's rule).
"""

from .base import Middleware, Next
from .fail_on_exception import FailOnException
from .rate_limited import RateLimited
from .skip import Skip
from .skip_if_batch_cancelled import SkipIfBatchCancelled
from .throttles_exceptions import ThrottlesExceptions
from .without_overlapping import WithoutOverlapping

__all__ = [
    "FailOnException",
    "Middleware",
    "Next",
    "RateLimited",
    "Skip",
    "SkipIfBatchCancelled",
    "ThrottlesExceptions",
    "WithoutOverlapping",
]

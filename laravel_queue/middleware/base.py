"""The middleware protocol: `handle(job, next)`, wrap-around like Laravel's pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..job import Job

Next = Callable[["Job"], None]

# A job released because a limit is reached waits until the window resets, plus this
# (Laravel: `availableIn($key) + 3` in RateLimited and ThrottlesExceptions).
RELEASE_MARGIN_SECONDS = 3


class Middleware(Protocol):
    def handle(self, job: Job, next: Next) -> Any:
        """Run around the job; call `next(job)` to continue, or return to end it as done."""

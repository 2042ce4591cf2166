"""`SkipIfBatchCancelled()` (Laravel: Illuminate\\Queue\\Middleware\\SkipIfBatchCancelled).

A batch's jobs already queued still run after the batch is cancelled; with this middleware a
job of a cancelled batch ends at once, as a success (it counts as processed, as in Laravel).
"""

from __future__ import annotations

from dataclasses import dataclass

from laravel_queue.dispatchable import Job, Next


@dataclass(frozen=True)
class SkipIfBatchCancelled:
    def handle(self, job: Job, next: Next) -> None:
        batch = job.batch()
        if batch is None or not batch.cancelled():
            next(job)

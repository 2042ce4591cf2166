"""A job's transitions as Celery task states, in the app's result backend when it has one, so
`AsyncResult(job_id)` and Flower see what `Queue.status` sees.

Job tasks are sent with `ignore_result` (a job's status needs no result backend), so Celery
itself stores nothing for them; where the app has a result backend, this stores `STARTED`
when a run starts, `PROGRESS` with the progress as `info` (at most once per
`PROGRESS_EVERY_SECONDS`, as Celery's own `update_state(state="PROGRESS", meta=...)`
recipe does), `RETRY` for a release, then `SUCCESS`, `FAILURE` (the exception) or `REVOKED`
(a cancel). A backend that fails costs the job nothing: the failure is logged.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from weakref import WeakKeyDictionary

from celery import Celery, states
from celery.backends.base import DisabledBackend

from laravel_queue.status.record import Progress

logger = logging.getLogger("laravel_queue")

_has_backend: WeakKeyDictionary[Celery, bool] = WeakKeyDictionary()

PROGRESS = "PROGRESS"
PROGRESS_EVERY_SECONDS = 0.25


class ResultMirror:
    """The states of one job's run in `backend`."""

    def __init__(self, backend: Any, job_id: str) -> None:
        self.backend = backend
        self.job_id = job_id
        self._progress_at = float("-inf")

    @classmethod
    def of(cls, app: Celery | None, job_id: str) -> ResultMirror | None:
        """None when `app` has no result backend (Celery's `DisabledBackend`)."""
        if app is None:
            return None
        backed = _has_backend.get(app)
        if backed is None:  # asked once per app: reading Celery's settings takes ~6 us
            backed = _has_backend[app] = bool(app.conf.result_backend) and not isinstance(
                app.backend, DisabledBackend
            )
        return cls(app.backend, job_id) if backed else None

    def started(self) -> None:
        self._store(None, states.STARTED)

    def progressed(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._progress_at < PROGRESS_EVERY_SECONDS:
            return
        self._progress_at = now
        meta = {**vars(progress), "percent": progress.percent}
        self._store(meta, PROGRESS)

    def released(self, exc: BaseException | None) -> None:
        self._store(exc, states.RETRY)

    def succeeded(self) -> None:
        self._store(None, states.SUCCESS)

    def failed(self, exc: BaseException) -> None:
        self._store(exc, states.FAILURE)

    def cancelled(self) -> None:
        self._store(None, states.REVOKED)

    def _store(self, result: Any, state: str) -> None:
        try:
            if isinstance(result, BaseException):
                result = self.backend.prepare_exception(result)
            self.backend.store_result(self.job_id, result, state)
        except Exception as exc:  # the job's outcome stands whatever the backend does
            logger.warning("job %s: result backend not updated (%s): %r", self.job_id, state, exc)

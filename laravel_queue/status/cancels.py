"""Cancelled jobs, kept in the cache store every worker shares (`manager.cancels`).

`Queue.cancel(job_id)` adds the id to the hash `cancels` and bumps `cancels:version`; each
process that runs jobs reads the version at most twice a second and, only when it moved,
the set, so checking a job costs no round trip. A cancel is stored, not held in a
worker's memory as Celery's revokes are: it survives worker restarts and reaches workers
started later. It reaches a running worker within `REFRESH_SECONDS`.
"""

from __future__ import annotations

import threading
import time

from laravel_queue.cache.base import CacheStore
from laravel_queue.status.store import StatusStore, is_job_id

CANCELLED = "cancels"
VERSION = "cancels:version"
TERMINATE = "terminate"
REFRESH_SECONDS = 0.5
KEEP_SECONDS = 7 * 24 * 3600.0
"""How long cancels are kept after the last one: longer than a job waits in a queue."""


class Cancels:
    def __init__(self, cache: CacheStore) -> None:
        self.cache = cache
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}  # job id: TERMINATE, or when it was cancelled
        self._version: str | None = None
        self._read_at = float("-inf")

    def cancel(self, job_id: str, *, terminate: bool = False) -> None:
        """Mark the job cancelled, for every worker; with `terminate`, a pool process running
        it is to be killed."""
        value = TERMINATE if terminate else repr(time.time())
        self.cache.put_field(CANCELLED, job_id, value, ttl=KEEP_SECONDS)
        self.cache.increment(VERSION)
        with self._lock:
            self._read_at = float("-inf")  # this process sees it at once

    def is_cancelled(self, job_id: str) -> bool:
        """Whether the job was cancelled, as known at most `REFRESH_SECONDS` ago."""
        with self._lock:
            if time.monotonic() - self._read_at >= REFRESH_SECONDS:
                self._refresh()
            return job_id in self._ids

    def is_terminated(self, job_id: str) -> bool:
        """Whether the job was cancelled with `terminate=True` (as `is_cancelled` knows)."""
        return self.is_cancelled(job_id) and self._ids.get(job_id) == TERMINATE

    def _refresh(self) -> None:
        self._read_at = time.monotonic()
        version = self.cache.get(VERSION)
        if version != self._version:
            self._ids = self.cache.fields(CANCELLED)
            self._version = version


def cancel_job(
    cancels: Cancels, statuses: StatusStore | None, job_id: str, *, terminate: bool = False
) -> bool:
    """Cancel the job (`Queue.cancel`): False when it had finished already (or `job_id` is
    not a job id). A job not running yet is `cancelled` at once and never runs; a running
    one is asked to stop (its `cancelled()` turns true) and keeps its status until it ends,
    or, with `terminate`, its pool process is killed."""
    if not is_job_id(job_id):
        return False
    status = statuses.find(job_id) if statuses is not None else None
    if status is not None and status.finished:
        return False
    cancels.cancel(job_id, terminate=terminate)
    if statuses is not None and status is not None and status.state != "processing":
        now = time.time()
        statuses.record(status.moved("cancelled", now, finished_at=now))
    return True

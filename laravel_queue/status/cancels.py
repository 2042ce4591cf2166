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
REFRESH_SECONDS = 0.5
KEEP_SECONDS = 7 * 24 * 3600.0
"""How long cancels are kept after the last one: longer than a job waits in a queue."""


class Cancels:
    def __init__(self, cache: CacheStore) -> None:
        self.cache = cache
        self._lock = threading.Lock()
        self._ids: frozenset[str] = frozenset()
        self._version: str | None = None
        self._read_at = float("-inf")

    def cancel(self, job_id: str) -> None:
        """Mark the job cancelled, for every worker."""
        self.cache.put_field(CANCELLED, job_id, repr(time.time()), ttl=KEEP_SECONDS)
        self.cache.increment(VERSION)
        with self._lock:
            self._read_at = float("-inf")  # this process sees it at once

    def is_cancelled(self, job_id: str) -> bool:
        """Whether the job was cancelled, as known at most `REFRESH_SECONDS` ago."""
        with self._lock:
            if time.monotonic() - self._read_at >= REFRESH_SECONDS:
                self._refresh()
            return job_id in self._ids

    def _refresh(self) -> None:
        self._read_at = time.monotonic()
        version = self.cache.get(VERSION)
        if version != self._version:
            self._ids = frozenset(self.cache.fields(CANCELLED))
            self._version = version


def cancel_job(cancels: Cancels, statuses: StatusStore | None, job_id: str) -> bool:
    """Cancel the job (`Queue.cancel`): False when it had finished already (or `job_id` is
    not a job id). A job not running yet is `cancelled` at once and never runs; a running
    one is asked to stop (its `cancelled()` turns true) and keeps its status until it ends."""
    if not is_job_id(job_id):
        return False
    status = statuses.find(job_id) if statuses is not None else None
    if status is not None and status.finished:
        return False
    cancels.cancel(job_id)
    if statuses is not None and status is not None and status.state != "processing":
        now = time.time()
        statuses.record(status.moved("cancelled", now, finished_at=now))
    return True

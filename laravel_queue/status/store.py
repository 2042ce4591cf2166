"""`manager.status`: each job's `JobStatus` in the cache store, kept for `status_ttl` seconds.

Laravel keeps no status of a job (Horizon keeps its recent and failed jobs in Redis); Celery
keeps task states only with a result backend. Here every job has one on every broker, in the
cache store every worker shares, under `status:<job uuid>`, expiring `status_ttl` after its
last transition.
"""

from __future__ import annotations

import time
import uuid

from laravel_queue.cache.base import CacheStore
from laravel_queue.status.record import JobStatus, queued_json
from laravel_queue.status.writer import LaterWrites

PREFIX = "status:"
Queued = tuple[str, str, str, str | None, float, list[str] | None]
"""A job just queued: `(job id, display name, queue, batch id, delay in seconds, tags)`."""
RUNNING_AFTER_SECONDS = 0.25
"""A job is written as `processing` once it has run this long: a shorter one goes straight
from `pending` to how it ended, with one write."""


def is_job_id(text: str) -> bool:
    """Whether `text` is a job uuid as dispatch makes them."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class StatusStore:
    def __init__(self, cache: CacheStore, ttl: float) -> None:
        self.cache = cache
        self.ttl = ttl
        self.later = LaterWrites(self._write)

    def find(self, job_id: str) -> JobStatus | None:
        """The job's status as this process last saw it written, or None (unknown, expired,
        or not a job id)."""
        if not is_job_id(job_id):
            return None
        key = PREFIX + job_id
        waiting = self.later.waiting(key)
        if waiting is not None:
            return waiting
        text = self.cache.get(key)
        return JobStatus.from_json(text) if text else None

    def record(self, status: JobStatus) -> None:
        """Write `status` now: a transition other processes must see in order (`released`
        before the job is queued again, `failed`), superseding what waits for this job."""
        key = PREFIX + status.id
        self.later.drop(key)
        self._write([(key, status.to_json(), False)])

    def ended(self, status: JobStatus) -> None:
        """A job succeeded: nothing can follow it, so the write waits for the end of the
        window (`writer.WINDOW_SECONDS`), to go with the jobs that end meanwhile."""
        self.later.schedule(PREFIX + status.id, status)

    def queued(self, connection: str, jobs: list[Queued]) -> None:
        """Jobs were queued on `connection` (each `pending`, or `delayed` for its delay):
        written from the background, each only if the job has no status yet (a worker may
        have taken it already)."""
        self.later.schedule_many(_queued_values(connection, jobs), only_if_absent=True)

    def requeued(self, connection: str, jobs: list[Queued]) -> None:
        """Failed jobs queued again (`lq failed:retry`): `pending` at once, over `failed`."""
        values = _queued_values(connection, jobs)
        for key, _ in values:
            self.later.drop(key)
        self._write([(key, text, False) for key, text in values])

    def running(self, status: JobStatus) -> None:
        """A job started: written if it still runs `RUNNING_AFTER_SECONDS` later, unless its
        end is recorded first."""
        self.later.schedule(PREFIX + status.id, status, delay=RUNNING_AFTER_SECONDS)

    def progressed(self, status: JobStatus) -> None:
        """The running job's progress: at most one write per quarter second, the last value
        always written."""
        self.later.schedule(PREFIX + status.id, status)

    def _write(self, values: list[tuple[str, str, bool]]) -> None:
        self.cache.put_many(values, self.ttl)


def _queued_values(connection: str, jobs: list[Queued]) -> list[tuple[str, str]]:
    now = time.time()
    return [
        (
            PREFIX + job_id,
            queued_json(
                job_id,
                name,
                connection,
                queue,
                batch_id,
                now,
                now + delay if delay > 0 else None,
                tags,
            ),
        )
        for job_id, name, queue, batch_id, delay, tags in jobs
    ]

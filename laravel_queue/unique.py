"""Unique jobs (Laravel: ShouldBeUnique, ShouldBeUniqueUntilProcessing and Bus\\UniqueLock).

`class Sync(Job, ShouldBeUnique)`: dispatching takes a lock on `unique:<class path>:<unique_id>`
in the cache store, owned by the new job's uuid; while it is held, dispatching another such
job is dropped (`dispatch()` returns None). The worker gives the lock back once the job is done
(after a success, or when it fails for good; not after a release), or — for
`ShouldBeUniqueUntilProcessing` — just before `handle()` runs.

Two deliberate differences (DESIGN §9): the lock expires (`unique_for`, one day when unset,
where Laravel's default never expires), and it is released only by the job that owns it, so
a retried or late job can never free the lock of a newer dispatch. As in Laravel, uniqueness
applies to `dispatch()` only — not to `Queue.push`, `Queue.bulk` or `dispatch_sync`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from .cache.base import CacheStore

if TYPE_CHECKING:
    from .job import Job

logger = logging.getLogger("laravel_queue")

KEY_PREFIX = "unique:"  # Laravel: laravel_unique_job:
DEFAULT_UNIQUE_FOR = 24 * 3600


class ShouldBeUnique:
    """Mixin: one job per `unique_id()` queued or running at a time (Laravel: ShouldBeUnique)."""

    unique_for: ClassVar[float | None] = None
    """Seconds the lock may be held at most; None or 0 means one day (DESIGN §9.1)."""

    def unique_id(self) -> object:
        """What makes two jobs of this class the same; "" (the default) means the class."""
        return ""

    def unique_via(self) -> CacheStore:
        """The store holding the lock (Laravel: uniqueVia); the manager's cache by default."""
        from .manager import current_manager

        return current_manager().cache


class ShouldBeUniqueUntilProcessing(ShouldBeUnique):
    """Mixin: unique until a worker starts the job; the lock goes just before `handle()`."""


@dataclass(frozen=True)
class UniqueLock:
    """The lock of one unique job, owned by the uuid of the dispatch that took it."""

    store: CacheStore
    key: str
    ttl: float

    @classmethod
    def of(cls, job: Job) -> UniqueLock | None:
        """The job's lock, or None for a job that is not unique."""
        if not isinstance(job, ShouldBeUnique):
            return None
        key = f"{KEY_PREFIX}{job.display_name()}:{job.unique_id()}"
        return cls(job.unique_via(), key, float(job.unique_for or DEFAULT_UNIQUE_FOR))

    def acquire(self, owner: str) -> bool:
        return self.store.add(self.key, owner, self.ttl)

    def release(self, owner: str) -> bool:
        """Give the lock back if `owner` still holds it (compare-and-delete).

        A store that cannot be reached is logged, not raised: the lock then expires after its
        TTL, and a job's outcome (pushed, done, failed) must not change because of it."""
        try:
            return self.store.forget_if(self.key, owner)
        except Exception:
            logger.warning(
                "could not release unique lock %s; it expires within %ss",
                self.key,
                self.ttl,
                exc_info=True,
            )
            return False


def release_unique_lock(job: Job, owner: str) -> None:
    lock = UniqueLock.of(job)
    if lock is not None:
        lock.release(owner)

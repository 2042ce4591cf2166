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

from typing import ClassVar

from laravel_queue.cache.base import CacheStore, Lock
from laravel_queue.jobs.queueable import Queueable

KEY_PREFIX = "unique:"  # Laravel: laravel_unique_job:
DEFAULT_UNIQUE_FOR = 24 * 3600


class ShouldBeUnique:
    """Mixin: one job per `unique_id()` queued or running at a time (Laravel: ShouldBeUnique)."""

    unique_for: ClassVar[float | None] = None
    """Seconds the lock may be held at most; None or 0 means one day (DESIGN §9.1)."""

    def unique_id(self) -> object:
        """What makes two jobs of this class the same; "" (the default) means the class."""
        return ""

    def unique_via(self) -> CacheStore | None:
        """The store holding the lock (Laravel: uniqueVia); None, the default, means the
        cache store of the manager dispatching or running the job."""
        return None


class ShouldBeUniqueUntilProcessing(ShouldBeUnique):
    """Mixin: unique until a worker starts the job; the lock goes just before `handle()`."""


def unique_lock(job: Queueable, owner: str, cache: CacheStore) -> Lock:
    """The lock of unique `job` as held by `owner` (the uuid of the dispatch that took it),
    in the job's `unique_via()` store or else in `cache` (the manager's)."""
    assert isinstance(job, ShouldBeUnique), f"{job.display_name()} is not a unique job"
    key = f"{KEY_PREFIX}{job.display_name()}:{job.unique_id()}"
    store = job.unique_via() or cache
    return store.lock(key, float(job.unique_for or DEFAULT_UNIQUE_FOR), owner)

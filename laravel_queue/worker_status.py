"""Each worker's heartbeat, kept in the cache store: what `lq workers` lists.

Celery's `inspect` only hears workers that answer a broadcast in time (and the SQL broker
carries no broadcasts at all); a record each worker writes every few seconds is there for
every worker on every broker, and one that stops being refreshed is a worker that died
without saying so (Laravel Horizon's supervisors work the same way).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from .cache.base import CacheStore

PREFIX = "workers:"
HEARTBEAT_SECONDS = 5.0
STALE_AFTER_SECONDS = 30.0  # six missed heartbeats
RECORD_TTL_SECONDS = 24 * 3600  # a dead worker's record is shown (unhealthy) for a day


@dataclass(frozen=True)
class WorkerStatus:
    """One worker as its last heartbeat described it."""

    name: str
    hostname: str
    pid: int
    queues: list[str]
    pool: str
    concurrency: int
    active: int
    processed: int
    started_at: float
    last_heartbeat: float

    def age(self, now: float | None = None) -> float:
        """Seconds since the last heartbeat."""
        return (time.time() if now is None else now) - self.last_heartbeat

    def healthy(self, stale_after: float = STALE_AFTER_SECONDS, now: float | None = None) -> bool:
        return self.age(now) < stale_after


class WorkerRegistry:
    def __init__(self, cache: CacheStore) -> None:
        self.cache = cache

    def beat(self, status: WorkerStatus) -> None:
        self.cache.put(PREFIX + status.name, json.dumps(asdict(status)), ttl=RECORD_TTL_SECONDS)

    def forget(self, name: str) -> None:
        self.cache.forget(PREFIX + name)

    def all(self) -> list[WorkerStatus]:
        """Every worker with a record, by name; records that cannot be read are skipped."""
        found = []
        for value in self.cache.starting_with(PREFIX).values():
            try:
                found.append(WorkerStatus(**json.loads(value)))
            except (TypeError, ValueError):
                continue
        return sorted(found, key=lambda status: status.name)

    def prune(self, stale_after: float = STALE_AFTER_SECONDS) -> list[str]:
        """Forget the workers whose heartbeat is older than `stale_after`; their names."""
        now = time.time()
        gone = [status.name for status in self.all() if not status.healthy(stale_after, now)]
        for name in gone:
            self.forget(name)
        return gone

"""Each worker's heartbeat, kept in the cache store: what `lq workers` lists.

Celery's `inspect` only hears workers that answer a broadcast in time (and the SQL broker
carries no broadcasts at all); a record each worker writes every few seconds is there for
every worker on every broker, and one that stops being refreshed is a worker that died
without saying so (Laravel Horizon's supervisors work the same way).

`WorkerHeartbeat`, a bootstep, writes it from the worker's main process on the consumer's
timer, in every worker of the app, stock `celery worker` included; the record is forgotten
when the worker shuts down cleanly, and one left by a killed worker shows as unhealthy once
it is stale.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

from celery.worker import state

from laravel_queue.cache.base import CacheStore
from laravel_queue.exceptions import describe
from laravel_queue.manager import manager_for_app
from laravel_queue.worker.mover import consumed_queues
from laravel_queue.worker.steps import RepeatingStep

logger = logging.getLogger("laravel_queue.worker")

WORKERS = "workers"
"""The hash of every worker's record, by worker name."""
HEARTBEAT_SECONDS = 5.0
JOBS_SHOWN = 20
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
    jobs: list[str] = field(default_factory=list)  # ids of the jobs running, up to JOBS_SHOWN

    def age(self, now: float | None = None) -> float:
        """Seconds since the last heartbeat."""
        return (time.time() if now is None else now) - self.last_heartbeat

    def healthy(self, stale_after: float = STALE_AFTER_SECONDS, now: float | None = None) -> bool:
        return self.age(now) < stale_after


class WorkerRegistry:
    def __init__(self, cache: CacheStore) -> None:
        self.cache = cache

    def beat(self, status: WorkerStatus) -> None:
        record = json.dumps(asdict(status))
        self.cache.put_field(WORKERS, status.name, record, ttl=RECORD_TTL_SECONDS)

    def forget(self, name: str) -> None:
        self.cache.forget_field(WORKERS, name)

    def all(self) -> list[WorkerStatus]:
        """Every worker with a record from the last `RECORD_TTL_SECONDS`, by name; records
        that cannot be read are skipped."""
        found = []
        now = time.time()
        for value in self.cache.fields(WORKERS).values():
            try:
                status = WorkerStatus(**json.loads(value))
            except (TypeError, ValueError):
                continue
            if status.age(now) < RECORD_TTL_SECONDS:  # a hash expires whole, not per worker
                found.append(status)
        return sorted(found, key=lambda status: status.name)

    def prune(self, stale_after: float = STALE_AFTER_SECONDS) -> list[str]:
        """Forget the workers whose heartbeat is older than `stale_after`; their names."""
        now = time.time()
        gone = [status.name for status in self.all() if not status.healthy(stale_after, now)]
        for name in gone:
            self.forget(name)
        return gone


# Each pool by the name `--pool` takes.
POOL_NAMES = {
    "celery.concurrency.prefork": "prefork",
    "celery.concurrency.solo": "solo",
    "celery.concurrency.thread": "threads",
    "celery.concurrency.eventlet": "eventlet",
    "celery.concurrency.gevent": "gevent",
}


class WorkerHeartbeat(RepeatingStep):
    timer_priority = 6
    doing = "writing the worker heartbeat"

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.started_at = time.time()
        self.queues: list[str] = []

    def interval(self, c: Any) -> float:
        return HEARTBEAT_SECONDS

    def start(self, c: Any) -> None:
        if not self.queues:
            self.queues = consumed_queues(c)  # as started, before any pause
        self.run_tick(c)
        super().start(c)

    def tick(self, c: Any) -> None:
        WorkerRegistry(manager_for_app(c.app).cache).beat(self.status(c))

    def shutdown(self, c: Any) -> None:
        try:
            WorkerRegistry(manager_for_app(c.app).cache).forget(c.hostname)
        except Exception as exc:
            logger.warning("could not remove the worker heartbeat: %s", describe(exc))
            logger.debug("could not remove the worker heartbeat", exc_info=exc)

    def status(self, c: Any) -> WorkerStatus:
        pool = c.pool
        return WorkerStatus(
            name=c.hostname,
            hostname=c.hostname.partition("@")[2] or c.hostname,
            pid=os.getpid(),
            queues=self.queues,
            pool=POOL_NAMES.get(type(pool).__module__, type(pool).__module__),
            concurrency=int(pool.num_processes if pool is not None else 0),
            active=len(state.active_requests),
            jobs=[request.id for request in islice(state.active_requests, JOBS_SHOWN)],
            processed=sum(state.total_count.values()),
            started_at=self.started_at,
            last_heartbeat=time.time(),
        )

"""Bootstep: write this worker's heartbeat into the cache store (read by `lq workers`).

Runs in the worker's main process on the consumer's timer, in every worker of the app,
stock `celery worker` included; the record is forgotten when the worker shuts down
cleanly, and one left by a killed worker shows as unhealthy once it is stale.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from celery.worker import state

from ..exceptions import describe
from ..manager import manager_for_app
from ..worker_status import HEARTBEAT_SECONDS, WorkerRegistry, WorkerStatus
from .mover import consumed_queues
from .steps import RepeatingStep

logger = logging.getLogger("laravel_queue.worker")

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
            processed=sum(state.total_count.values()),
            started_at=self.started_at,
            last_heartbeat=time.time(),
        )

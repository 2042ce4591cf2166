"""Bootstep: a worker whose pool cannot run `async def` jobs refuses to start.

gevent and eventlet run each job in a greenlet of one thread: an asyncio loop there would
block every other greenlet while it waits (and eventlet's monkey-patching breaks asyncio
outright). `lq work` offers neither pool; a stock `celery worker -P gevent` of an app with
async jobs stops here, at start, naming them, instead of at its first async job.
"""

from __future__ import annotations

from typing import Any

from celery import bootsteps

from laravel_queue.exceptions import ConfigurationError
from laravel_queue.jobs.registry import jobs
from laravel_queue.runtime.event_loops import has_async_code
from laravel_queue.worker.heartbeat import POOL_NAMES

GREEN_POOLS = frozenset({"gevent", "eventlet"})


def refuse_async_jobs_on(pool: str) -> None:
    """Raise `ConfigurationError` if `pool` is a green pool and async jobs are registered."""
    if pool not in GREEN_POOLS:
        return
    found = sorted(name for name, cls in jobs().items() if has_async_code(cls))
    if found:
        raise ConfigurationError(
            f"the {pool} pool cannot run async def jobs ({', '.join(found[:3])}"
            f"{', ...' if len(found) > 3 else ''}): use prefork (a loop per process), threads "
            "(a loop per thread) or solo"
        )


class AsyncJobsNeedALoop(bootsteps.StartStopStep):  # type: ignore[misc]
    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, c: Any) -> None:
        refuse_async_jobs_on(POOL_NAMES.get(type(c.pool).__module__, ""))

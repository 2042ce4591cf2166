"""The job bodies both benchmark sides share, on the counting Redis (never the broker a
benchmark measures): one INCR per job, the first job's start time, a latency sample."""

from __future__ import annotations

import os
import time
from functools import lru_cache

import redis

# Every benchmark points this at a private server of its own (`bench.servers.use_private`).
CACHE = os.environ.get("LQ_BENCH_CACHE", "redis://127.0.0.1:6379/10")


@lru_cache(maxsize=1)
def counter() -> redis.Redis:
    return redis.Redis.from_url(CACHE)


def count() -> None:
    """The job body both sides share: one INCR, and the first job stamps its start time."""
    if counter().incr("bench:done") == 1:
        counter().set("bench:first", time.time())


def record_latency(sent: float) -> None:
    """Seconds from the publish call to this job's start, appended to `bench:latency`."""
    counter().rpush("bench:latency", time.time() - sent)

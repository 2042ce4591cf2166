"""The app both sides of the benchmark use: a raw Celery task and a laravel_queue job."""

from __future__ import annotations

import os
from functools import lru_cache

import redis
from celery import Celery

from laravel_queue import Job, Limit, QueueManager, RateLimiter
from laravel_queue.middleware import Middleware, RateLimited, WithoutOverlapping

BROKER = os.environ.get("LQ_BENCH_BROKER", "redis://127.0.0.1:6379/9")
CACHE = os.environ.get("LQ_BENCH_CACHE", "redis://127.0.0.1:6379/10")

app = Celery("bench", broker=BROKER)
if os.environ.get("LQ_BENCH_RELIABLE_FETCH") == "0":  # Kombu's own Redis fetch, to compare
    app.conf.broker_transport_options = {"reliable_fetch": False}
manager = QueueManager(app, cache_url=CACHE, database_url=os.environ.get("LQ_BENCH_DATABASE"))


@app.task(name="bench.raw_noop", ignore_result=True, acks_late=True)
def raw_noop() -> None:
    """The raw Celery side: same acks_late as a job."""


class NoopJob(Job):
    def handle(self) -> None:
        """The laravel_queue side: nothing to do, so only the framework is measured."""


class CountedJob(Job):
    """One INCR on the cache server (not the broker): how a benchmark knows it is done
    without adding commands to the broker it measures."""

    def handle(self) -> None:
        counter().incr("bench:done")


@lru_cache(maxsize=1)
def counter() -> redis.Redis:
    return redis.Redis.from_url(CACHE)


RateLimiter.for_("bench-generous", lambda job: Limit.per_second(1_000_000))


class GuardedJob(Job):
    """No work either, behind WithoutOverlapping (a key per job, so nothing ever waits) and a
    RateLimited whose limit is never reached: what the two middleware cost on their own."""

    def __init__(self, n: int) -> None:
        self.n = n

    def middleware(self) -> list[Middleware]:
        return [WithoutOverlapping(self.n), RateLimited("bench-generous")]

    def handle(self) -> None:
        pass

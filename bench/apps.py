"""The app both sides of the benchmark use: a raw Celery task and a laravel_queue job."""

from __future__ import annotations

import os
from functools import lru_cache

import redis
from celery import Celery

from laravel_queue import Batch, Job, Limit, QueueManager, RateLimiter, callback
from laravel_queue.middleware import Middleware, RateLimited, WithoutOverlapping

BROKER = os.environ.get("LQ_BENCH_BROKER", "redis://127.0.0.1:6379/9")
CACHE = os.environ.get("LQ_BENCH_CACHE", "redis://127.0.0.1:6379/10")

app = Celery("bench", broker=BROKER)
if os.environ.get("LQ_BENCH_RESULT_BACKEND"):  # only Celery's chord needs one (bench/batches.py)
    app.conf.result_backend = os.environ["LQ_BENCH_RESULT_BACKEND"]
if os.environ.get("LQ_BENCH_RELIABLE_FETCH") == "0":  # Kombu's own Redis fetch, to compare
    app.conf.broker_transport_options = {"reliable_fetch": False}
manager = QueueManager(app, cache_url=CACHE, database_url=os.environ.get("LQ_BENCH_DATABASE"))


@app.task(name="bench.raw_noop", ignore_result=True, acks_late=True)
def raw_noop() -> None:
    """The raw Celery side: same acks_late as a job."""


@app.task(name="bench.raw_counted", ignore_result=True, acks_late=True)
def raw_counted() -> None:
    """The raw Celery twin of CountedJob, for a group."""
    counter().incr("bench:done")


@app.task(name="bench.raw_counted_result", acks_late=True)
def raw_counted_result() -> None:
    """The same for a chord's header, whose results the chord counts in the result backend."""
    counter().incr("bench:done")


@app.task(name="bench.raw_chord_done", acks_late=True)
def raw_chord_done(_results: list[None]) -> None:
    """A chord's body: called once every header task has stored its result."""
    counter().set("bench:callback", 1)


@callback
def batch_done(_batch: Batch) -> None:
    """A batch's `then`: called once every job of the batch has succeeded."""
    counter().set("bench:callback", 1)


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


if os.environ.get("LQ_BENCH_LISTEN") == "1":  # bench/events.py: a listener on every job event
    from laravel_queue import Queue, events

    heard = {"events": 0}

    def _count(_event: object) -> None:
        heard["events"] += 1

    for _event in events.JOB_EVENTS:
        Queue.listen(_event, _count)

"""The laravel_queue side of every benchmark; its raw Celery twin is `bench.raw_app`."""

from __future__ import annotations

import os
import time

from celery import Celery

from bench.counting import CACHE, count, counter, record_latency
from laravel_queue import Batch, Job, Limit, QueueManager, RateLimiter, callback
from laravel_queue.middleware import Middleware, RateLimited, WithoutOverlapping

BROKER = os.environ.get("LQ_BENCH_BROKER", "redis://127.0.0.1:6379/9")

app = Celery("bench", broker=BROKER)
if os.environ.get("LQ_BENCH_RELIABLE_FETCH") == "0":  # Kombu's own Redis fetch, to compare
    app.conf.broker_transport_options = {"reliable_fetch": False}
# The cache store is the counting Redis unless a benchmark watches the store on its own.
STORE = os.environ.get("LQ_BENCH_STORE", CACHE)
manager = QueueManager(
    app,
    cache_url=STORE,
    database_url=os.environ.get("LQ_BENCH_DATABASE"),
    # bench/status.py compares tracking on (the default) and off
    status_ttl=float(os.environ.get("LQ_BENCH_STATUS_TTL", 24 * 3600)),
    # bench/metrics.py compares metrics on (the default) and off
    metrics_window=float(os.environ.get("LQ_BENCH_METRICS_WINDOW", 24 * 3600)),
)


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
        count()


class AsyncCountedJob(Job):
    """`CountedJob` as `async def handle()`: what running a coroutine on the worker's event
    loop adds to a job."""

    async def handle(self) -> None:
        count()


class LatencyJob(Job):
    """Records how long after its publish it started (`bench.counting.record_latency`)."""

    def __init__(self, sent: float) -> None:
        self.sent = sent

    def handle(self) -> None:
        record_latency(self.sent)


RateLimiter.for_("bench-generous", lambda job: Limit.per_second(1_000_000))


class GuardedJob(Job):
    """A CountedJob behind WithoutOverlapping (a key per job, so nothing ever waits) and a
    RateLimited whose limit is never reached: what the two middleware cost on their own."""

    def __init__(self, n: int) -> None:
        self.n = n

    def middleware(self) -> list[Middleware]:
        return [WithoutOverlapping(self.n), RateLimited("bench-generous")]

    def handle(self) -> None:
        count()


if os.environ.get("LQ_BENCH_LISTEN") == "1":  # bench/events.py: a listener on every job event
    from laravel_queue import Queue, events

    heard = {"events": 0}

    def _count(_event: object) -> None:
        heard["events"] += 1

    for _event in events.JOB_EVENTS:
        Queue.listen(_event, _count)


IO_WAIT_SECONDS = 0.01


class WaitsOnIO(Job):
    """Waits 10 ms as on a network call, then counts: a job a thread pool is made for."""

    def handle(self) -> None:
        time.sleep(IO_WAIT_SECONDS)
        count()

"""The raw Celery side of every benchmark: a plain Celery app that never imports laravel_queue,
so `celery -A bench.raw_app worker` is Celery as its users run it (Kombu's own Redis fetch, no
signal handlers or bootsteps of ours).

Each task does what its laravel_queue twin in `bench.apps` does: one INCR on the counting
Redis (not the broker), and the first one to run stamps the time, so a drain is timed from
the first job's own start to the last count.
"""

from __future__ import annotations

import os

from celery import Celery

from bench.counting import count, counter, record_latency

BROKER = os.environ.get("LQ_BENCH_BROKER", "redis://127.0.0.1:6379/9")

app = Celery("bench_raw", broker=BROKER)
if os.environ.get("LQ_BENCH_RESULT_BACKEND"):  # only Celery's chord needs one (bench/batches.py)
    app.conf.result_backend = os.environ["LQ_BENCH_RESULT_BACKEND"]
if os.environ.get("LQ_BENCH_CELERY_DEFAULTS") != "1":
    # `lq work`'s delivery settings; the rest are on the worker command (bench.harness).
    app.conf.task_acks_late = True
    app.conf.task_reject_on_worker_lost = True


@app.task(name="bench.raw_noop", ignore_result=True)
def raw_noop() -> None:
    """Nothing to do, so only the framework is measured."""


@app.task(name="bench.raw_counted", ignore_result=True)
def raw_counted() -> None:
    count()


@app.task(name="bench.raw_latency", ignore_result=True)
def raw_latency(sent: float) -> None:
    record_latency(sent)


@app.task(name="bench.raw_counted_result")
def raw_counted_result() -> None:
    """The same for a chord's header, whose results the chord counts in the result backend."""
    count()


@app.task(name="bench.raw_chord_done")
def raw_chord_done(_results: list[None]) -> None:
    """A chord's body: called once every header task has stored its result."""
    counter().set("bench:callback", 1)

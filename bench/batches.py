"""A 10,000-job batch beside 10,000 plain jobs, a Celery group and a Celery chord, in one run.

    make bench            # or: .venv/bin/python bench/batches.py --jobs 10000

Every side runs the same job (one INCR on another Redis database) through the same broker
(Redis) and one worker with `lq work`'s delivery settings (prefork 2, prefetch 1, acks late,
fair): laravel_queue's through `lq work`, Celery's through `celery worker`. Each side is timed
from its first publish to its end: the last job's count (plain jobs, the group), the batch's
`then` callback (counts in PostgreSQL's `job_batches`), the chord's body (Celery's Redis
result backend). The worker is started and has run one job before the clock starts; the
sides alternate which goes first over the rounds, and the median is printed.
Targets: a batch >= 0.7x plain jobs, >= 1x the chord.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = os.environ.setdefault(
    "LQ_BENCH_DATABASE", "postgresql+psycopg://postgres@127.0.0.1:5432/lq_bench_batches"
)
os.environ.setdefault("LQ_BENCH_RESULT_BACKEND", "redis://127.0.0.1:6379/11")

from celery import chord, group  # noqa: E402

from bench.apps import (  # noqa: E402
    BROKER,
    CACHE,
    CountedJob,
    batch_done,
    raw_chord_done,
    raw_counted,
    raw_counted_result,
)
from bench.harness import timed_run, warm_worker  # noqa: E402
from laravel_queue import Bus, Queue  # noqa: E402


def plain(jobs: int, queue: str) -> object:
    return Queue.bulk([CountedJob() for _ in range(jobs)], queue=queue)


def batch(jobs: int, queue: str) -> object:
    return (
        Bus.batch([CountedJob() for _ in range(jobs)]).then(batch_done).on_queue(queue).dispatch()
    )


def celery_group(jobs: int, queue: str) -> object:
    return group(raw_counted.si() for _ in range(jobs)).apply_async(queue=queue)


def celery_chord(jobs: int, queue: str) -> object:
    header = [raw_counted_result.si().set(queue=queue) for _ in range(jobs)]
    return chord(header)(raw_chord_done.s().set(queue=queue))


# name, worker kind, publish, ends with a callback
SIDES: list[tuple[str, str, Callable[[int, str], object], bool]] = [
    ("plain jobs (Queue.bulk)", "lq", plain, False),
    ("Bus.batch + then", "lq", batch, True),
    ("Celery group", "celery", celery_group, False),
    ("Celery chord", "celery", celery_chord, True),
]


def measure(index: int, jobs: int, round_: int) -> float:
    _name, kind, publish, callback = SIDES[index]
    queue = f"bench-{round_}-{index}"
    with warm_worker(kind, queue):
        return timed_run(lambda: publish(jobs, queue), jobs, callback=callback)


@contextmanager
def fresh_database(url: str) -> Iterator[None]:
    """Create the benchmark's PostgreSQL database (dropped afterwards); other URLs as given."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield
        return
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    try:
        yield
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        server.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    backend = os.environ["LQ_BENCH_RESULT_BACKEND"]
    urls = (BROKER, CACHE, backend)
    seconds: dict[str, list[float]] = {side[0]: [] for side in SIDES}
    with fresh_database(DATABASE):
        for round_ in range(args.rounds):
            for url in urls:
                redis.Redis.from_url(url).flushdb()
            order = range(len(SIDES)) if round_ % 2 == 0 else reversed(range(len(SIDES)))
            for index in order:
                seconds[SIDES[index][0]].append(measure(index, args.jobs, round_))
        for url in urls:
            redis.Redis.from_url(url).flushdb()
    rate = {name: args.jobs / statistics.median(times) for name, times in seconds.items()}
    print(
        f"{args.jobs:,} jobs, broker {BROKER}, batches in {make_url(DATABASE).get_backend_name()}"
    )
    for name, times in seconds.items():
        spread = f"{min(times):.1f}-{max(times):.1f}s" if len(times) > 1 else f"{times[0]:.1f}s"
        print(f"{name:26} {rate[name]:8,.0f} jobs/s  ({spread})")
    batch_rate = rate["Bus.batch + then"]
    for against, target in (("plain jobs (Queue.bulk)", 0.7), ("Celery chord", 1.0)):
        ratio = batch_rate / rate[against]
        verdict = "ok" if ratio >= target else "BELOW"
        print(f"batch / {against:24} {ratio:5.2f}x  target {target}x  {verdict}")
    print(f"batch / Celery group             {batch_rate / rate['Celery group']:5.2f}x")


if __name__ == "__main__":
    main()

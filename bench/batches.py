"""A 10,000-job batch beside 10,000 plain jobs, a Celery group and a Celery chord, in one run.

    .venv/bin/python bench/batches.py --jobs 10000 --rounds 3

Every side runs the same job (one INCR on another Redis database) through the same broker (a
private redis-server) and one worker with `lq work`'s delivery settings (prefork 2, prefetch
1, acks late, fair): laravel_queue's through `lq work`, Celery's through `celery worker`.
Each side is timed from its first publish to its end: the last job's count (plain jobs, the
group), the batch's `then` callback (counts in PostgreSQL's `job_batches`), the chord's body
(Celery's Redis result backend). The worker is started and has run one job before the clock
starts (the batch side a one-job batch, so loading the SQL store once is not timed); the
sides alternate which goes first over the rounds, and the median is printed.
Targets: a batch >= 0.7x plain jobs, >= 1x the chord.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

use_private_broker()
DATABASE = os.environ.setdefault(
    "LQ_BENCH_DATABASE", "postgresql+psycopg://postgres@127.0.0.1:5432/lq_bench_batches"
)
os.environ.setdefault("LQ_BENCH_RESULT_BACKEND", "redis://127.0.0.1:6379/11")

from celery import chord, group  # noqa: E402

from bench.apps import CACHE, CountedJob, batch_done, manager  # noqa: E402
from bench.harness import timed_run, warm_worker  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from bench.raw_app import raw_chord_done, raw_counted, raw_counted_result  # noqa: E402
from laravel_queue import Bus, Queue  # noqa: E402
from laravel_queue.bus.batch_outcomes import count_outcome, count_successes  # noqa: E402


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
    """Jobs/s of one side, from its publish to its end."""
    _name, kind, publish, callback = SIDES[index]
    queue = f"bench-{round_}-{index}"
    for url in (CACHE, os.environ["LQ_BENCH_RESULT_BACKEND"]):
        redis.Redis.from_url(url).flushdb()
    # The batch side warms up on a one-job batch: the worker's first count loads the SQL
    # store (SQLAlchemy, the schema check) once, which is start-up, not throughput.
    warm_up = (lambda q: batch(1, q)) if publish is batch else None
    with warm_worker(kind, queue, warm_up):
        return jobs / timed_run(lambda: publish(jobs, queue), jobs, callback=callback)


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


def count_alone(counts: int = 500) -> float:
    """Milliseconds one batched job's count takes in one otherwise idle process: what a job
    of a batch with `progress` callbacks waits for after it ends."""
    record = manager.batches.store("count alone", {})
    manager.batches.increment_total(record.id, counts)
    started = time.perf_counter()
    for n in range(counts):
        count_outcome(manager, record.id, f"job-{n}", None)
    return (time.perf_counter() - started) / counts * 1000


def count_together(jobs: int = 100, rounds: int = 50) -> float:
    """Milliseconds one count of `jobs` successes takes in one otherwise idle process: what a
    worker's main process does for the batched jobs that ended in 50 ms."""
    record = manager.batches.store("count together", {})
    manager.batches.increment_total(record.id, jobs * rounds)
    started = time.perf_counter()
    for r in range(rounds):
        uuids = [f"job-{r}-{n}" for n in range(jobs)]
        count_successes(manager, record.id, uuids, on_due=lambda _due: None)
    return (time.perf_counter() - started) / rounds * 1000


def rows(jobs: int, rounds: int) -> list[Row]:
    with fresh_database(DATABASE):
        rates = interleaved(
            rounds,
            {side[0]: lambda r, i=index: measure(i, jobs, r) for index, side in enumerate(SIDES)},
        )
        alone, together = count_alone(), count_together()
    batch = rates["Bus.batch + then"]
    return [
        Row(
            "batch vs plain jobs",
            "jobs/s",
            batch,
            rates[SIDES[0][0]],
            0.7,
            baseline="plain jobs",
            note="the worker's main process counts the successes that ended in 50 ms in one "
            f"PostgreSQL statement ({together:.2f} ms for 100 jobs in one idle process here); "
            "a batch with progress callbacks counts each job in the job instead, "
            f"{alone:.2f} ms a job",
        ),
        Row(
            "batch vs Celery chord",
            "jobs/s",
            batch,
            rates["Celery chord"],
            1.0,
            baseline="Celery chord",
        ),
        Row(
            "batch vs Celery group",
            "jobs/s",
            batch,
            rates["Celery group"],
            baseline="Celery group",
            note="no target: a group tracks nothing",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    report_arguments(parser)
    args = parser.parse_args()
    title = (
        f"{args.jobs:,} jobs x {args.rounds} rounds, lq work / celery worker prefork 2, "
        f"batches in {make_url(DATABASE).get_backend_name()}"
    )
    report(title, rows(args.jobs, args.rounds), args.json)


if __name__ == "__main__":
    main()

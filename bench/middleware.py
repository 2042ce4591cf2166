"""What WithoutOverlapping + RateLimited cost a worker, in one run beside raw Celery.

    .venv/bin/python bench/middleware.py --jobs 10000 --rounds 3

Two drains of the same number of no-op jobs through `lq work` (prefork 2): plain jobs, and
jobs behind `WithoutOverlapping(key per job)` and `RateLimited` with a limit it never
reaches, each published with `Queue.bulk` to a warm worker and timed to the last job
(`bench.harness`); the sides alternate over the rounds. The broker and the cache store are
private redis-servers (the jobs count on another), and a further drain of 1,000 guarded jobs
runs under the cache's MONITOR to count the round trips each job costs (commands a Lua
script runs inside the server are left out: they cost none). Targets: guarded/plain drain >=
0.7x; cache round trips per job 3 (RateLimited's check-and-count, the lock's take and its
release). Job status tracking and metrics are off on both sides (their costs are
`bench/status.py`'s and `bench/metrics.py`'s).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from redis.client import Monitor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private, use_private_broker  # noqa: E402

use_private_broker()
use_private("LQ_BENCH_STORE")
os.environ["LQ_BENCH_STATUS_TTL"] = "0"  # here and in the workers started: status.py's concern
os.environ["LQ_BENCH_METRICS_WINDOW"] = "0"  # and metrics.py's

from bench.apps import CountedJob, GuardedJob  # noqa: E402
from bench.harness import timed_run, warm_worker  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from laravel_queue import Job, Queue  # noqa: E402
from laravel_queue.worker import heartbeat as worker_status  # noqa: E402

STOP = "lq-bench-stop"


@contextmanager
def round_trips(url: str) -> Iterator[Counter[str]]:
    """Commands sent to the server at `url` while the block runs, by name: Redis's MONITOR,
    leaving out the commands a Lua script runs (they cost no round trip)."""
    counts: Counter[str] = Counter()

    def watch(monitor: Monitor) -> None:
        while True:
            command = monitor.next_command()
            if STOP in command["command"]:
                return
            if command["client_type"] != "lua":
                name = command["command"].split()[0].upper()
                # A worker's heartbeat (every few seconds, for `lq workers`) is no job's.
                heartbeat = f":{worker_status.WORKERS} " in command["command"]
                counts[f"heartbeat {name}" if heartbeat else name] += 1

    client = redis.Redis.from_url(url)
    with client.monitor() as monitor:
        watcher = threading.Thread(target=watch, args=(monitor,))
        watcher.start()
        try:
            yield counts
        finally:
            client.echo(STOP)
            watcher.join(timeout=60)


def drain(make: Callable[[int], Job], jobs: int, queue: str) -> float:
    """Jobs/s of `jobs` jobs made by `make(n)`, published at once to a warm worker."""
    with warm_worker("lq", queue):
        return jobs / timed_run(lambda: Queue.bulk([make(n) for n in range(jobs)], queue), jobs)


def plain(_n: int) -> Job:
    return CountedJob()


def rows(jobs: int, rounds: int) -> list[Row]:
    rates = interleaved(
        rounds,
        {
            "plain": lambda r: drain(plain, jobs, f"bench-plain-{r}"),
            "guarded": lambda r: drain(GuardedJob, jobs, f"bench-guarded-{r}"),
        },
    )
    # Round trips are counted on a run of their own: MONITOR slows the server down.
    counted = min(jobs, 1000)
    with round_trips(os.environ["LQ_BENCH_STORE"]) as trips:
        drain(GuardedJob, counted, "bench-counted")
    # The warm-up job before the clock is counted too.
    per_job = {name: count / (counted + 1) for name, count in trips.most_common() if name != "ECHO"}
    return [
        Row(
            "drain, WithoutOverlapping + RateLimited",
            "jobs/s",
            rates["guarded"],
            rates["plain"],
            0.7,
            baseline="plain jobs",
        ),
        Row(
            "cache round trips per guarded job",
            "commands",
            # What every job sends; start-up commands (HELLO, SCAN, ...) are in the note.
            [
                sum(
                    rate
                    for name, rate in per_job.items()
                    if rate >= 0.5 and not name.startswith("heartbeat")
                )
            ],
            at_most=3,
            note=", ".join(f"{name} {count:.2f}" for name, count in per_job.items()),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    report_arguments(parser)
    args = parser.parse_args()
    title = (
        f"{args.jobs:,} jobs x {args.rounds} rounds, lq work prefork 2, private broker and cache"
    )
    report(title, rows(args.jobs, args.rounds), args.json)


if __name__ == "__main__":
    main()

"""Async no-op jobs (`async def handle()`) against sync no-op jobs, drained in one run.

    .venv/bin/python bench/async_jobs.py --jobs 10000 --rounds 3

Both sides drain the same count of jobs doing one INCR on the counting Redis (`CountedJob`
and its `async def` twin), published with `Queue.bulk`, through `lq work` (prefork 2) on a
private redis-server; the sides alternate which goes first and the medians are compared.
Target: the async side drains at >= 0.9x the sync side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

use_private_broker()

from bench.apps import AsyncCountedJob, CountedJob  # noqa: E402
from bench.harness import timed_run, warm_worker  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from laravel_queue import Job, Queue  # noqa: E402


def drain(job_class: type[Job], jobs: int, round_: int) -> float:
    """Jobs/s of `jobs` jobs of `job_class` through a warmed `lq work`."""
    queue = f"bench-async-{round_}-{job_class.__name__}"
    with warm_worker("lq", queue):  # (the async side's loop is made at its first job: ~0.1 ms)
        return jobs / timed_run(lambda: Queue.bulk([job_class() for _ in range(jobs)], queue), jobs)


def rows(jobs: int, rounds: int) -> list[Row]:
    rates = interleaved(
        rounds,
        {
            "sync": lambda r: drain(CountedJob, jobs, r),
            "async": lambda r: drain(AsyncCountedJob, jobs, r),
        },
    )
    return [
        Row(
            "drain, async def handle() no-op jobs",
            "jobs/s",
            rates["async"],
            rates["sync"],
            ratio_at_least=0.9,
            baseline="sync no-op jobs",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    report_arguments(parser)
    args = parser.parse_args()
    title = f"{args.jobs:,} jobs x {args.rounds} rounds, lq work prefork 2"
    report(title, rows(args.jobs, args.rounds), args.json)


if __name__ == "__main__":
    main()

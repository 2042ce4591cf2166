"""Drain throughput with a listener on every job event vs without, in one run.

    .venv/bin/python bench/events.py --jobs 10000 --rounds 3

Both sides drain the same jobs (one INCR on another Redis database, published with
`Queue.bulk`) through `lq work` (prefork 2) on a private redis-server; the listening side's
worker imports the app with `LQ_BENCH_LISTEN=1`, which registers a listener (a counter in
the pool process) on each of JobProcessing, JobProcessed, JobExceptionOccurred,
JobReleasedAfterException, JobFailed, JobAttempted and JobTimedOut. The sides alternate
which goes first; the median of the rounds is compared. Target: >= 0.9x.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

use_private_broker()

from bench.apps import CountedJob  # noqa: E402
from bench.harness import timed_run, warm_worker  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from laravel_queue import Queue  # noqa: E402


def measure(listening: bool, jobs: int, round_: int) -> float:
    queue = f"bench-events-{round_}-{int(listening)}"
    env = {"LQ_BENCH_LISTEN": "1"} if listening else {}
    with warm_worker("lq", queue, **env):
        return jobs / timed_run(
            lambda: Queue.bulk([CountedJob() for _ in range(jobs)], queue), jobs
        )


def rows(jobs: int, rounds: int) -> list[Row]:
    rates = interleaved(
        rounds,
        {
            "quiet": lambda r: measure(False, jobs, r),
            "listening": lambda r: measure(True, jobs, r),
        },
    )
    return [
        Row(
            "drain, a listener on every job event",
            "jobs/s",
            rates["listening"],
            rates["quiet"],
            0.9,
            baseline="no listeners",
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

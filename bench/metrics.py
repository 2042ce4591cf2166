"""Drain throughput with the workers' metrics on (the default) vs off, in one run, and the
cache store's commands per 1,000 jobs with them on.

    .venv/bin/python bench/metrics.py --jobs 10000 --rounds 3

Both sides drain the same no-op jobs (one INCR on the counting Redis, published with
`Queue.bulk`) through `lq work` (prefork 2); the broker and the cache store are private
redis-servers, so `INFO commandstats` of the store counts what the worker sends it: the
metrics (one pipeline a second per busy pool process: the minute's tallies, and one
increment per total that changed),
and what a worker sends anyway (its heartbeat, the pause flags, the long-wait check). Job
status tracking is off on both sides (its cost is `bench/status.py`'s), so the ratio is the
metrics' own. The metrics-off side runs with `metrics_window=0`. The sides alternate which
goes first; the median of the rounds is compared. Target: >= 0.95x.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import commands_run, use_private, use_private_broker  # noqa: E402

use_private_broker()
STORE = use_private("LQ_BENCH_STORE")
os.environ["LQ_BENCH_STATUS_TTL"] = "0"  # here and in the workers: status.py's concern

from bench.apps import CountedJob  # noqa: E402
from bench.harness import timed_run, warm_worker  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from laravel_queue import Queue  # noqa: E402

WINDOW = 24 * 3600.0


def measure(metrics: bool, jobs: int, round_: int, calls: dict[str, list[float]]) -> float:
    """Jobs/s of one side; its store commands per 1,000 jobs into `calls`."""
    queue = f"bench-metrics-{round_}-{int(metrics)}"
    window = WINDOW if metrics else 0.0
    with warm_worker("lq", queue, LQ_BENCH_METRICS_WINDOW=str(window)):
        before = commands_run(STORE)
        rate = jobs / timed_run(
            lambda: Queue.bulk([CountedJob() for _ in range(jobs)], queue), jobs
        )
        calls["on" if metrics else "off"].append((commands_run(STORE) - before) / jobs * 1000)
    return rate


def rows(jobs: int, rounds: int) -> list[Row]:
    calls: dict[str, list[float]] = {"on": [], "off": []}
    rates = interleaved(
        rounds,
        {
            "off": lambda r: measure(False, jobs, r, calls),
            "on": lambda r: measure(True, jobs, r, calls),
        },
    )
    return [
        Row(
            "drain, metrics on",
            "jobs/s",
            rates["on"],
            rates["off"],
            ratio_at_least=0.95,
            baseline="metrics off",
        ),
        Row(
            "cache store commands per 1,000 jobs, metrics on",
            "commands",
            calls["on"],
            calls["off"],
            baseline="metrics off",
            note="a pipeline's commands count one each; off: the heartbeat, pause flags, waits",
        ),
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
    os.environ.setdefault("LQ_BENCH_METRICS_WINDOW", str(WINDOW))
    main()

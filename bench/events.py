"""Drain throughput with a listener on every job event vs without, in one run.

    make bench            # or: .venv/bin/python bench/events.py --jobs 10000 --rounds 3

Both sides drain the same jobs (one INCR on another Redis database, published with
`Queue.bulk`) through `lq work` (prefork 2) on Redis; the listening side's worker imports the
app with `LQ_BENCH_LISTEN=1`, which registers a listener (a counter in the pool process) on
each of JobProcessing, JobProcessed, JobExceptionOccurred, JobReleasedAfterException,
JobFailed, JobAttempted and JobTimedOut. The sides alternate which goes first; the median
of the rounds is compared. Target: >= 0.9x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.apps import BROKER, CACHE, CountedJob  # noqa: E402
from bench.harness import timed_run, warm_worker  # noqa: E402
from laravel_queue import Queue  # noqa: E402

TARGET = 0.9


def measure(listening: bool, jobs: int, round_: int) -> float:
    queue = f"bench-events-{round_}-{int(listening)}"
    env = {"LQ_BENCH_LISTEN": "1"} if listening else {}
    with warm_worker("lq", queue, **env):
        return timed_run(lambda: Queue.bulk([CountedJob() for _ in range(jobs)], queue), jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for url in (BROKER, CACHE):
        redis.Redis.from_url(url).flushdb()
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for round_ in range(args.rounds):
        for listening in (False, True) if round_ % 2 == 0 else (True, False):
            seconds[listening].append(measure(listening, args.jobs, round_))
    for url in (BROKER, CACHE):
        redis.Redis.from_url(url).flushdb()
    rate = {side: args.jobs / statistics.median(times) for side, times in seconds.items()}
    print(f"{args.jobs:,} jobs x {args.rounds} rounds, broker {BROKER}, lq work prefork 2")
    for side, label in ((False, "no listeners"), (True, "a listener on every job event")):
        times = seconds[side]
        print(f"{label:32} {rate[side]:8,.0f} jobs/s  ({min(times):.1f}-{max(times):.1f}s)")
    ratio = rate[True] / rate[False]
    print(f"with / without {ratio:5.2f}x  target {TARGET}x  {'ok' if ratio >= TARGET else 'BELOW'}")


if __name__ == "__main__":
    main()

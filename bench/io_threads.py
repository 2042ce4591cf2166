"""Jobs that wait on I/O, on a thread pool: `lq work --pool threads -c 8` against Dramatiq's
worker with 1 process x 8 threads, on the same private redis-server, in one run.

    .venv/bin/python bench/io_threads.py --jobs 2000 --rounds 3

Each job sleeps 10 ms (a network call) and counts one INCR on the counting Redis; each side
is warmed with one job, then timed from its first publish until every job has counted, the
sides alternating which goes first. Eight threads can run at most 800 such jobs a second.
Target: laravel_queue >= 1.0x Dramatiq. Needs the `bench` extra (`make bench` installs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

use_private_broker()

from bench.apps import WaitsOnIO  # noqa: E402
from bench.counting import counter  # noqa: E402
from bench.harness import lq_worker, start, stop, timed_run, wait_for  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from laravel_queue import Queue  # noqa: E402

THREADS = 8


def lq_side(jobs: int, round_: int) -> float:
    queue = f"bench-io-{round_}"
    command = [*lq_worker(queue, pool="threads", concurrency=THREADS)]
    worker = start(command)
    try:
        counter().delete("bench:done")
        Queue.bulk([WaitsOnIO()], queue=queue)
        wait_for(lambda: counter().get("bench:done") == b"1", timeout=60)
        publish = [WaitsOnIO() for _ in range(jobs)]
        return jobs / timed_run(lambda: Queue.bulk(publish, queue=queue), jobs)
    finally:
        stop(worker)


def dramatiq_side(jobs: int, round_: int) -> float:
    from dramatiq import group

    from bench.dramatiq_app import waits_on_io

    command = [sys.executable, "-m", "dramatiq", "bench.dramatiq_app", "-p", "1", "-t"]
    worker = start([*command, str(THREADS)])
    try:
        counter().delete("bench:done")
        waits_on_io.send()
        wait_for(lambda: counter().get("bench:done") == b"1", timeout=60)
        messages = [waits_on_io.message() for _ in range(jobs)]
        return jobs / timed_run(lambda: group(messages).run(), jobs)
    finally:
        stop(worker)


def rows(jobs: int, rounds: int) -> list[Row]:
    rates = interleaved(
        rounds,
        {
            "lq": lambda r: lq_side(jobs, r),
            "dramatiq": lambda r: dramatiq_side(jobs, r),
        },
    )
    return [
        Row(
            f"drain, 10 ms I/O jobs, threads x {THREADS} (1 process)",
            "jobs/s",
            rates["lq"],
            rates["dramatiq"],
            ratio_at_least=1.0,
            baseline="Dramatiq 1 x 8 threads",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    report_arguments(parser)
    args = parser.parse_args()
    title = f"{args.jobs:,} jobs x {args.rounds} rounds, 10 ms each, Redis"
    report(title, rows(args.jobs, args.rounds), args.json)


if __name__ == "__main__":
    main()

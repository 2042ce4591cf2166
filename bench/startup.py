"""Worker start to first job, raw Celery beside `lq work`, in one run.

    .venv/bin/python bench/startup.py --rounds 5

One job waits in the queue; the clock starts just before the worker process is started and
stops at the job's own start (it stamps the time). `lq work` runs with its defaults, raw
Celery with `lq work`'s delivery settings and the same pool and concurrency, on a private
redis-server. The sides alternate; median and spread over the rounds.
Target: `lq work` <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

use_private_broker()

from bench.apps import CountedJob  # noqa: E402
from bench.counting import counter  # noqa: E402
from bench.harness import celery_worker, lq_worker, start, stop, wait_for  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from bench.raw_app import raw_counted  # noqa: E402


def measure(kind: str) -> float:
    queue = f"bench-startup-{kind}"
    counter().delete("bench:done", "bench:first")
    if kind == "lq":
        CountedJob().on_queue(queue).dispatch()
        command = lq_worker(queue, defaults=True)
    else:
        raw_counted.apply_async(queue=queue)
        command = celery_worker(queue, concurrency=os.cpu_count() or 1)
    started = time.time()
    worker = start(command)
    try:
        wait_for(lambda: counter().get("bench:first") is not None, timeout=60)
    finally:
        stop(worker)
    return float(counter().get("bench:first") or 0) - started


def rows(rounds: int) -> list[Row]:
    samples = interleaved(
        rounds, {kind: lambda _r, k=kind: measure(k) for kind in ("celery", "lq")}
    )
    return [Row("worker start to first job", "s", samples["lq"], samples["celery"], at_most=0.5)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    report_arguments(parser)
    args = parser.parse_args()
    title = f"{args.rounds} rounds, lq work defaults, raw Celery with the same pool and concurrency"
    report(title, rows(args.rounds), args.json)


if __name__ == "__main__":
    main()

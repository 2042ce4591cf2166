"""Drain and dispatch throughput with job status tracking on (the default) vs off, in one
run, and the cache store's commands per job with it on.

    .venv/bin/python bench/status.py --jobs 10000 --rounds 3

Both sides drain the same no-op jobs (one INCR on the counting Redis, published with
`Queue.bulk`) through `lq work` (prefork 2); the broker and the cache store are private
redis-servers, so `INFO commandstats` of the store counts only the status writes (from the
worker, and from this process for `pending`). The tracking-off side runs with
`status_ttl=0` in both processes. The dispatch rows time `Queue.push` one job at a time and
`Queue.bulk` in one process, up to the last `pending` status written (the background writes
compete with the dispatching thread, so they count). The sides alternate which goes first;
the median of the rounds is compared. Targets: >= 0.9x for the drain and for `Queue.push`;
`Queue.bulk` spends ~40 us a job, so a status's ~5 us shows there: its bar is staying >= 5x
raw Celery's `apply_async` loop, which `bench/throughput.py` checks with tracking on.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import commands_run, use_private, use_private_broker  # noqa: E402

use_private_broker()
STORE = use_private("LQ_BENCH_STORE")

from bench import apps  # noqa: E402
from bench.apps import CountedJob  # noqa: E402
from bench.harness import timed_run, warm_worker  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from laravel_queue import Queue  # noqa: E402
from laravel_queue.status.store import StatusStore  # noqa: E402

TTL = 3600.0


def track(tracking: bool) -> float:
    """Turn tracking on or off in this process; the status_ttl the worker is to use."""
    ttl = TTL if tracking else 0.0
    apps.manager.status_ttl = ttl
    apps.manager.__dict__.pop("status", None)  # the cached store, made again for this side
    return ttl


def flush() -> None:
    store = apps.manager.status
    if isinstance(store, StatusStore):
        store.later.flush()


def dispatch_rate(tracking: bool, jobs: int, send: Callable[[str], object]) -> float:
    """Jobs/s of `send(queue)` dispatching `jobs` jobs, its status writes included."""
    track(tracking)
    queue = f"bench-status-dispatch-{int(tracking)}"
    send(queue)  # warm: the connection, the writer's thread
    flush()
    started = time.perf_counter()
    send(queue)
    flush()
    rate = jobs / (time.perf_counter() - started)
    Queue.clear(queue)
    return rate


def measure(tracking: bool, jobs: int, round_: int, calls: list[float]) -> float:
    """Jobs/s of one side; on the tracking side, the store's commands per job into `calls`."""
    queue = f"bench-status-{round_}-{int(tracking)}"
    ttl = track(tracking)
    with warm_worker("lq", queue, LQ_BENCH_STATUS_TTL=str(ttl)):
        flush()  # the warm-up job's own writes are not this side's
        before = commands_run(STORE)
        rate = jobs / timed_run(
            lambda: Queue.bulk([CountedJob() for _ in range(jobs)], queue), jobs
        )
        if tracking:
            flush()
            calls.append((commands_run(STORE) - before) / jobs)
    return rate


def push_each(jobs: int) -> Callable[[str], object]:
    return lambda queue: [Queue.push(CountedJob(), queue) for _ in range(jobs)]


def push_bulk(jobs: int) -> Callable[[str], object]:
    return lambda queue: Queue.bulk([CountedJob() for _ in range(jobs)], queue)


def rows(jobs: int, rounds: int) -> list[Row]:
    calls: list[float] = []
    rates = interleaved(
        rounds,
        {
            "off": lambda r: measure(False, jobs, r, calls),
            "on": lambda r: measure(True, jobs, r, calls),
        },
    )
    pushed = interleaved(
        rounds,
        {
            "off": lambda _r: dispatch_rate(False, jobs, push_each(jobs)),
            "on": lambda _r: dispatch_rate(True, jobs, push_each(jobs)),
        },
    )
    bulk = interleaved(
        rounds,
        {
            "off": lambda _r: dispatch_rate(False, jobs, push_bulk(jobs)),
            "on": lambda _r: dispatch_rate(True, jobs, push_bulk(jobs)),
        },
    )
    return [
        Row(
            "dispatch (Queue.push), job status tracking on",
            "jobs/s",
            pushed["on"],
            pushed["off"],
            ratio_at_least=0.9,
            baseline="tracking off",
        ),
        Row(
            "Queue.bulk, job status tracking on",
            "jobs/s",
            bulk["on"],
            bulk["off"],
            baseline="tracking off",
            note="no target of its own: bulk stays >= 5x raw Celery (bench/throughput.py)",
        ),
        Row(
            "drain, job status tracking on",
            "jobs/s",
            rates["on"],
            rates["off"],
            ratio_at_least=0.9,
            baseline="tracking off",
        ),
        Row("cache store commands per job, tracking on", "commands", calls, baseline=""),
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
    os.environ.setdefault("LQ_BENCH_STATUS_TTL", str(TTL))
    main()

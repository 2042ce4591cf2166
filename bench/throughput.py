"""Raw Celery vs laravel_queue on Redis, in one run: dispatch, drain and bulk publish.

    make bench            # or: .venv/bin/python bench/throughput.py --jobs 10000

Both sides use the same broker, the same worker settings (prefork, concurrency 2,
prefetch 1, acks late, -O fair) and no result backend. Targets: dispatch >= 0.9x,
drain >= 0.9x, Queue.bulk >= 5x a raw apply_async loop.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LQ_BENCH_DATABASE", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite")

from bench.apps import BROKER, CACHE, NoopJob, raw_noop  # noqa: E402
from bench.harness import celery_worker, lq_worker  # noqa: E402
from laravel_queue import Queue  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def in_flight(client: redis.Redis) -> int:
    """Messages taken and not yet acknowledged: Kombu's unacked hash, or reliable fetch's
    in-flight lists."""
    lists = client.keys("lq:fetch:inflight:*")
    return int(client.hlen("unacked")) + sum(int(client.llen(key)) for key in lists)


def drain(command: list[str], queue: str, jobs: int, client: redis.Redis, **env_vars: str) -> float:
    """Seconds from the first job taken to the queue empty and nothing unacknowledged."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_vars}
    worker = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while client.llen(queue) >= jobs:
            time.sleep(0.002)
        started = time.perf_counter()
        while client.llen(queue):
            time.sleep(0.002)
        while in_flight(client):
            time.sleep(0.002)
        return time.perf_counter() - started
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    jobs = parser.parse_args().jobs
    client = redis.Redis.from_url(BROKER)
    for url in (BROKER, CACHE):
        redis.Redis.from_url(url).flushdb()

    raw_dispatch = timed(lambda: [raw_noop.apply_async(queue="raw") for _ in range(jobs)])
    lq_dispatch = timed(lambda: [NoopJob().on_queue("lq").dispatch() for _ in range(jobs)])

    raw_drain = drain(celery_worker("raw"), "raw", jobs, client, LQ_BENCH_RELIABLE_FETCH="0")
    lq_drain = drain(lq_worker("lq"), "lq", jobs, client)

    loop_publish = timed(lambda: [raw_noop.apply_async(queue="bulk_raw") for _ in range(jobs)])
    bulk_publish = timed(lambda: Queue.bulk([NoopJob() for _ in range(jobs)], queue="bulk_lq"))
    assert client.llen("bulk_lq") == jobs, "Queue.bulk lost messages"
    for url in (BROKER, CACHE):
        redis.Redis.from_url(url).flushdb()

    rows = [
        ("dispatch", jobs / raw_dispatch, jobs / lq_dispatch, raw_dispatch / lq_dispatch, 0.9),
        ("drain", jobs / raw_drain, jobs / lq_drain, raw_drain / lq_drain, 0.9),
        (
            "bulk vs apply_async loop",
            jobs / loop_publish,
            jobs / bulk_publish,
            loop_publish / bulk_publish,
            5.0,
        ),
    ]
    print(f"{jobs:,} no-op jobs on {BROKER}")
    print(f"{'':26} {'raw Celery/s':>13} {'laravel_queue/s':>16} {'ratio':>7} {'target':>7}")
    for name, raw, ours, ratio, target in rows:
        verdict = "ok" if ratio >= target else "BELOW"
        print(f"{name:26} {raw:13,.0f} {ours:16,.0f} {ratio:7.2f} {target:6.1f}x {verdict}")


if __name__ == "__main__":
    main()

"""What WithoutOverlapping + RateLimited cost a worker, in one run beside raw Celery.

    make bench            # or: .venv/bin/python bench/middleware.py --jobs 10000

Three drains of the same number of no-op jobs with the same worker settings (prefork,
concurrency 2, Redis broker): a raw Celery task, a plain job, and a job behind
`WithoutOverlapping(key per job)` and `RateLimited` with a limit it never reaches. The cache
store is a private redis-server started for the run, and a further drain of 1,000 guarded jobs
runs under its MONITOR to count the round trips each job costs (commands a Lua script runs
inside the server are left out: they cost none). Targets: guarded/plain drain >= 0.7x; round
trips per job: RateLimited 1, WithoutOverlapping 2 (take the lock, give it back).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from redis.client import Monitor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of the benchmark's own on a free loopback port; its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


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
                counts[command["command"].split()[0].upper()] += 1

    client = redis.Redis.from_url(url)
    with client.monitor() as monitor:
        watcher = threading.Thread(target=watch, args=(monitor,))
        watcher.start()
        try:
            yield counts
        finally:
            client.echo(STOP)
            watcher.join(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    jobs = parser.parse_args().jobs
    os.environ.setdefault("LQ_BENCH_DATABASE", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite")
    with private_redis() as cache_url:
        os.environ["LQ_BENCH_CACHE"] = cache_url
        from bench.apps import BROKER, GuardedJob, NoopJob, raw_noop
        from bench.throughput import celery_worker, drain, lq_worker
        from laravel_queue import Queue

        broker = redis.Redis.from_url(BROKER)
        cache = redis.Redis.from_url(cache_url)
        broker.flushdb()
        for _ in range(jobs):
            raw_noop.apply_async(queue="raw")
        Queue.bulk([NoopJob() for _ in range(jobs)], queue="plain")
        Queue.bulk([GuardedJob(n) for n in range(jobs)], queue="guarded")

        raw = drain(celery_worker("raw"), "raw", jobs, broker)
        plain = drain(lq_worker("plain"), "plain", jobs, broker)
        guarded = drain(lq_worker("guarded"), "guarded", jobs, broker)
        # Round trips are counted on a run of their own: MONITOR slows the server down.
        counted = min(jobs, 1000)
        Queue.bulk([GuardedJob(n) for n in range(counted)], queue="counted")
        with round_trips(cache_url) as trips:
            drain(lq_worker("counted"), "counted", counted, broker)
        left = cache.dbsize()
        broker.flushdb()

    print(f"{jobs:,} no-op jobs on {BROKER}, cache store on a private redis-server")
    print(f"{'drain':40} {'jobs/s':>8} {'vs raw':>7} {'vs plain':>9}")
    for name, seconds in (
        ("raw Celery task", raw),
        ("job, no middleware", plain),
        ("job + WithoutOverlapping + RateLimited", guarded),
    ):
        print(f"{name:40} {jobs / seconds:8,.0f} {raw / seconds:7.2f} {plain / seconds:9.2f}")
    ratio = plain / guarded
    print(f"guarded/plain {ratio:.2f}x (target >= 0.70: {'ok' if ratio >= 0.7 else 'BELOW'})")
    per_job = {name: count / counted for name, count in trips.most_common() if name != "ECHO"}
    print(
        f"cache round trips per guarded job ({counted:,} jobs, MONITOR): "
        + ", ".join(f"{name} {count:.2f}" for name, count in per_job.items())
    )
    print(
        "expected: EVALSHA 2 (RateLimited check-and-count, lock release) + SET 1 (lock take); "
        f"keys left behind: {left} (the rate-limit window only)"
    )


if __name__ == "__main__":
    main()

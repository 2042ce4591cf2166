"""Reliable fetch vs Kombu's Redis fetch, in one run: drain speed and broker commands per job.

    make bench            # or: .venv/bin/python bench/reliable_fetch.py --jobs 10000

The broker is a private redis-server started for the run, so `INFO commandstats` counts only
the broker's commands. Each side drains the same number of jobs whose body is one INCR on
another Redis (the shared one), with `lq work`'s settings (prefork, prefetch 1, acks late),
once with concurrency 1 and once with 2; the two sides alternate. Targets: drain >= 1.0x
Kombu's fetch; fewer broker commands per job than Kombu's.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def private_redis() -> Iterator[str]:
    from bench.middleware import private_redis as start

    with start() as url:
        yield url


def drain(broker: str, reliable: bool, jobs: int, concurrency: int) -> tuple[float, float]:
    """(jobs/s, broker commands per job) for one drain of `jobs` jobs."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LQ_BENCH_BROKER": broker,
        "LQ_BENCH_RELIABLE_FETCH": "1" if reliable else "0",
    }
    code = (
        "from bench.apps import CountedJob, counter\n"
        "counter().delete('bench:done')\n"
        f"for _ in range({jobs}): CountedJob.dispatch()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    client = redis.Redis.from_url(broker)
    done = redis.Redis.from_url(os.environ["LQ_BENCH_CACHE"])
    client.config_resetstat()
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "laravel_queue.cli", "--app", "bench.apps", "work"),
            *("--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "ERROR"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while int(done.get("bench:done") or 0) == 0:
            time.sleep(0.002)
        started = time.perf_counter()
        first = int(done.get("bench:done") or 0)
        while int(done.get("bench:done") or 0) < jobs:
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        calls = sum(
            int(stats["calls"])
            for name, stats in client.info("commandstats").items()
            if name not in ("cmdstat_info", "cmdstat_config|resetstat")
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    client.flushdb()
    return (jobs - first) / elapsed, calls / jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    jobs = parser.parse_args().jobs
    os.environ.setdefault("LQ_BENCH_CACHE", "redis://127.0.0.1:6379/10")
    os.environ.setdefault("LQ_BENCH_DATABASE", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite")
    print(f"{jobs:,} jobs (one INCR each) drained by lq work, broker on a private redis-server")
    print(f"{'':14} {'Kombu fetch/s':>14} {'reliable/s':>11} {'ratio':>6}  commands/job K/R")
    with private_redis() as broker:
        for concurrency in (1, 2):
            kombu_rate, kombu_calls = drain(broker, False, jobs, concurrency)
            rate, calls = drain(broker, True, jobs, concurrency)
            ratio = rate / kombu_rate
            verdict = "ok" if ratio >= 1.0 and calls < kombu_calls else "BELOW"
            print(
                f"prefork c={concurrency:<4} {kombu_rate:14,.0f} {rate:11,.0f} {ratio:6.2f}"
                f"  {kombu_calls:5.2f} / {calls:4.2f}  {verdict}"
            )


if __name__ == "__main__":
    main()

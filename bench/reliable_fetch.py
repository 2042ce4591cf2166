"""Reliable fetch vs Kombu's Redis fetch, in one run: drain speed and broker commands per job.

    .venv/bin/python bench/reliable_fetch.py --jobs 10000

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
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import ending_with_this_process, private_redis, use_private  # noqa: E402

use_private("LQ_BENCH_CACHE")  # a broker of its own per drain, below; the count's server here

from bench.counting import CACHE  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402


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
    done = redis.Redis.from_url(CACHE)
    client.config_resetstat()
    worker = subprocess.Popen(
        ending_with_this_process(
            [
                *(sys.executable, "-m", "laravel_queue.cli", "--app", "bench.apps", "work"),
                *("--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "ERROR"),
            ]
        ),
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


def rows(jobs: int, rounds: int) -> list[Row]:
    found = []
    with private_redis() as broker:
        for concurrency in (1, 2):
            samples = interleaved(
                rounds,
                {
                    "kombu": lambda _r, c=concurrency: drain(broker, False, jobs, c),
                    "reliable": lambda _r, c=concurrency: drain(broker, True, jobs, c),
                },
            )
            kombu, reliable = samples["kombu"], samples["reliable"]
            found += [
                Row(
                    f"lq work drain, reliable fetch, prefork {concurrency}",
                    "jobs/s",
                    [rate for rate, _ in reliable],
                    [rate for rate, _ in kombu],
                    1.0,
                    baseline="Kombu's fetch",
                ),
                Row(
                    f"broker commands per job, reliable fetch, prefork {concurrency}",
                    "commands",
                    [calls for _, calls in reliable],
                    [calls for _, calls in kombu],
                    ratio_at_most=0.99,
                    baseline="Kombu's fetch",
                ),
            ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    report_arguments(parser)
    args = parser.parse_args()
    os.environ.setdefault("LQ_BENCH_DATABASE", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite")
    title = (
        f"{args.jobs:,} jobs (one INCR each) drained by lq work, broker on a private redis-server"
    )
    report(title, rows(args.jobs, args.rounds), args.json)


if __name__ == "__main__":
    main()

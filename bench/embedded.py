"""The embedded SQLite default next to Redis, in one run: drain rate and release latency.

    make bench            # or: .venv/bin/python bench/embedded.py --jobs 1000

Each side drains the same no-op jobs with `lq work --stop-when-empty` (defaults otherwise),
then runs one job that releases itself for 1 s and measures how late its second run starts.
The Redis side uses a private redis-server; the SQLite side a fresh file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.middleware import private_redis  # noqa: E402

APP = """
import os, time
from celery import Celery
from laravel_queue import Job, QueueManager

broker = os.environ.get("BENCH_BROKER")
manager = QueueManager(Celery("bench", broker=broker) if broker else None,
                       cache_url=os.environ.get("BENCH_CACHE") or None)


class Noop(Job):
    def handle(self) -> None:
        pass


class ReleasesOnce(Job):
    tries = 2

    def __init__(self, out: str) -> None:
        self.out = out

    def handle(self) -> None:
        with open(self.out, "a") as f:
            f.write(f"{time.time()}\\n")
        if self.attempts() == 1:
            self.release(1)
"""


def run(home: Path, env: dict[str, str], code: str) -> None:
    subprocess.run([sys.executable, "-c", code], cwd=home, env=env, check=True)


def measure(jobs: int, home: Path, extra_env: dict[str, str]) -> tuple[float, float]:
    (home / "bench_app.py").write_text(APP)
    env = {**os.environ, "PYTHONPATH": f"{home}:{ROOT}", "LQ_HOME": str(home), **extra_env}
    run(home, env, f"from bench_app import Noop\nfor _ in range({jobs}): Noop.dispatch()")
    work = [sys.executable, "-m", "laravel_queue.cli", "--app", "bench_app", "work"]
    started = time.perf_counter()
    subprocess.run(
        [*work, "--stop-when-empty"],
        cwd=home,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    drain = jobs / (time.perf_counter() - started)
    out = home / "runs.txt"
    run(home, env, f"from bench_app import ReleasesOnce\nReleasesOnce.dispatch({str(out)!r})")
    subprocess.run(
        [*work, "--max-time", "6"],  # --stop-when-empty would not wait for the release
        cwd=home,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first, second = (float(line) for line in out.read_text().split())
    return drain, second - first - 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    jobs = parser.parse_args().jobs
    print(f"{jobs:,} no-op jobs, lq work --stop-when-empty (drain includes worker start-up)")
    print(f"{'':18} {'jobs/s':>8} {'release 1 s: late by':>22}")
    with tempfile.TemporaryDirectory() as sqlite_home:
        drain, late = measure(jobs, Path(sqlite_home), {})
        print(f"{'SQLite (default)':18} {drain:8,.0f} {late:21.2f}s")
    with private_redis() as url, tempfile.TemporaryDirectory() as redis_home:
        drain, late = measure(jobs, Path(redis_home), {"BENCH_BROKER": url, "BENCH_CACHE": url})
        print(f"{'Redis':18} {drain:8,.0f} {late:21.2f}s")


if __name__ == "__main__":
    main()

"""The embedded SQLite default next to Redis, in one run: drain rate and delayed-job lateness.

    .venv/bin/python bench/embedded.py --jobs 1000

Each side drains the same no-op jobs with `lq work --stop-when-empty` (defaults otherwise,
start-up included), then `--delayed` jobs dispatched at once with delays spread over 0.5-2
s, each noting how late after its due time it started (dispatched once the worker runs
jobs). The Redis side uses a private redis-server; the SQLite side a fresh file. Targets:
SQLite drains >= 100 jobs/s; a delayed job starts within 1 s of its due time (p99) on both.
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

from bench.measure import Row, report, report_arguments  # noqa: E402
from bench.servers import ending_with_this_process, private_redis  # noqa: E402

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


class Late(Job):
    def __init__(self, out: str, due: float) -> None:
        self.out, self.due = out, due

    def handle(self) -> None:
        with open(self.out, "a") as f:
            f.write(f"{time.time() - self.due}\\n")
"""


def run(home: Path, env: dict[str, str], code: str) -> None:
    subprocess.run([sys.executable, "-c", code], cwd=home, env=env, check=True)


DELAYS = "[0.5 + 1.5 * n / JOBS for n in range(JOBS)]"


def measure(
    jobs: int, delayed: int, home: Path, extra_env: dict[str, str]
) -> tuple[float, list[float]]:
    """(drain jobs/s, seconds late of each delayed job)."""
    (home / "bench_app.py").write_text(APP)
    env = {**os.environ, "PYTHONPATH": f"{home}:{ROOT}", "LQ_HOME": str(home), **extra_env}
    run(home, env, f"from bench_app import Noop\nfor _ in range({jobs}): Noop.dispatch()")
    work = [sys.executable, "-m", "laravel_queue.cli", "--app", "bench_app", "work"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    started = time.perf_counter()
    subprocess.run([*work, "--stop-when-empty"], cwd=home, env=env, check=True, **quiet)
    drain = jobs / (time.perf_counter() - started)
    out = home / "late.txt"
    dispatch = f"import time\nfrom bench_app import Late\nJOBS = {delayed}\n"
    worker = subprocess.Popen(ending_with_this_process(work), cwd=home, env=env, **quiet)
    try:
        # Only once the worker runs jobs, so its start-up is not counted as lateness.
        run(home, env, dispatch + f"Late({str(out)!r}, time.time()).dispatch()")
        wait_for_lines(out, 1)
        out.unlink()
        run(
            home,
            env,
            dispatch + f"for delay in {DELAYS}:\n"
            f"    Late({str(out)!r}, time.time() + delay).delay(delay).dispatch()",
        )
        wait_for_lines(out, delayed)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    late = [float(line) for line in out.read_text().split()]
    return drain, late


def wait_for_lines(path: Path, lines: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() or len(path.read_text().split()) < lines:
        assert time.monotonic() < deadline, f"{path} did not reach {lines} lines"
        time.sleep(0.01)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def rows(jobs: int, delayed: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as sqlite_home:
        sqlite = measure(jobs, delayed, Path(sqlite_home), {})
    with private_redis() as url, tempfile.TemporaryDirectory() as redis_home:
        on_redis = measure(
            jobs, delayed, Path(redis_home), {"BENCH_BROKER": url, "BENCH_CACHE": url}
        )
    found = [
        Row(
            "embedded SQLite drain, start-up included",
            "jobs/s",
            [sqlite[0]],
            note=f"Redis, the same way: {on_redis[0]:,.0f} jobs/s",
        )
    ]
    for name, (_, late) in (("SQLite", sqlite), ("Redis", on_redis)):
        found.append(
            Row(
                f"delayed job lateness p99, {name}",
                "s",
                [percentile(late, 0.99)],
                at_most=1.0,
                note=f"p50 {percentile(late, 0.5):.2f} s over {len(late)} jobs",
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--delayed", type=int, default=200)
    report_arguments(parser)
    args = parser.parse_args()
    title = f"{args.jobs:,} no-op jobs and {args.delayed} delayed jobs, lq work defaults"
    report(title, rows(args.jobs, args.delayed), args.json)


if __name__ == "__main__":
    main()

"""Every benchmark of the project in one run, raw Celery beside laravel_queue; writes RESULTS.md.

    make bench            # or: .venv/bin/python bench/run_all.py [--jobs 10000] [--rounds 3]

Each benchmark runs in a process of its own (they set up their private servers before
importing the apps), one after the other, so no two compete for the box's cores; each writes
its rows as JSON, and this script puts them in one report with the box, the versions, every
target and whether it was met. `--quick` runs small counts, to check the benchmarks work.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import Row, load, notes, table  # noqa: E402


def benchmarks(jobs: int, rounds: int) -> list[tuple[str, list[str]]]:
    """(script, arguments): what `--jobs` and `--rounds` mean for each."""
    return [
        ("throughput.py", ["--jobs", str(jobs), "--rounds", str(rounds)]),
        ("latency.py", ["--samples", str(max(100, jobs // 30)), "--rounds", str(rounds)]),
        ("startup.py", ["--rounds", str(max(5, rounds))]),
        ("reliable_fetch.py", ["--jobs", str(jobs), "--rounds", "1"]),
        ("middleware.py", ["--jobs", str(jobs), "--rounds", str(rounds)]),
        ("events.py", ["--jobs", str(jobs), "--rounds", str(rounds)]),
        ("status.py", ["--jobs", str(jobs), "--rounds", str(rounds)]),
        ("async_jobs.py", ["--jobs", str(jobs), "--rounds", str(rounds)]),
        (
            "fastapi_dispatch.py",
            ["--requests", str(max(1000, jobs // 10)), "--rounds", str(rounds)],
        ),
        ("metrics.py", ["--jobs", str(jobs), "--rounds", str(rounds)]),
        ("batches.py", ["--jobs", str(jobs), "--rounds", str(rounds)]),
        ("failed_retry.py", ["--rows", str(jobs)]),
        ("dashboard.py", ["--rows", str(jobs * 10), "--rounds", str(max(3, rounds))]),
        ("embedded.py", ["--jobs", str(max(200, jobs // 10)), "--delayed", "200"]),
        *(
            [("io_threads.py", ["--jobs", str(max(1000, jobs // 5)), "--rounds", str(rounds)])]
            if importlib.util.find_spec("dramatiq")  # the `bench` extra (`make bench`)
            else []
        ),
    ]


def box() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    server = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    packages = ("celery", "kombu", "redis", "SQLAlchemy", "laravel_queue")
    return [
        f"- box: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}",
        f"- Python {platform.python_version()}; "
        + ", ".join(f"{name} {version(name)}" for name in packages),
        f"- {server.stdout.strip().split(' sha=')[0]} (a private server per benchmark, loopback)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1,000 jobs, 1 round")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    jobs, rounds = (1000, 1) if args.quick else (args.jobs, args.rounds)
    started = time.monotonic()
    sections: list[tuple[str, str, list[Row]]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for script, arguments in benchmarks(jobs, rounds):
            out = Path(scratch) / f"{script}.json"
            print(f"== {script} {' '.join(arguments)}", flush=True)
            subprocess.run(
                [sys.executable, str(ROOT / "bench" / script), *arguments, "--json", str(out)],
                cwd=ROOT,
                check=True,
            )
            title, rows = load(out)
            sections.append((script, title, rows))
    minutes = (time.monotonic() - started) / 60
    everything = [row for _, _, rows in sections for row in rows]
    missed = [row.name for row in everything if row.met is False]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `bench/run_all.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"in {minutes:.0f} min (`--jobs {jobs} --rounds {rounds}`). Figures are medians "
        "(min-max over the rounds); the sides of each comparison alternate which runs first.",
        "",
        *box(),
        "",
        f"Targets: {sum(row.met is True for row in everything)} met, {len(missed)} missed"
        + (f" ({'; '.join(missed)})." if missed else "."),
        "",
    ]
    for script, title, rows in sections:
        lines += [f"## `bench/{script}`", "", title, "", table(rows), ""]
        if notes(rows):
            lines += [notes(rows), ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

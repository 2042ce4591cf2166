"""The zero-setup SQLite default is a real queue: `lq work --stop-when-empty` drains it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from laravel_queue import Queue, QueueManager

from .. import jobs
from ..support import ROOT, lines

pytestmark = pytest.mark.slow


def test_stop_when_empty_drains_the_embedded_default_without_exhausting_its_pool(
    sqlite_manager: QueueManager, trace: Path, lq_home: Path
) -> None:
    """Every stop-when-empty check counted the queue in a transaction Kombu never ended; the
    pool of 15 connections ran out after about a minute and the worker died."""
    for n in range(300):
        jobs.Traced.dispatch(str(trace), f"j{n}")
    started = time.monotonic()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "laravel_queue.cli", "--app", "tests.jobs", "work"),
            "--stop-when-empty",
        ],
        env={"PYTHONPATH": str(ROOT), "LQ_HOME": str(lq_home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=170,
        cwd=ROOT,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert len(lines(trace)) == 300 and Queue.size() == 0
    print(f"300 jobs drained from the embedded SQLite default in {elapsed:.1f}s")

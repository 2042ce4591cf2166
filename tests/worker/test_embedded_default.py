"""The zero-setup SQLite default is a real queue: `lq work --stop-when-empty` drains it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from laravel_queue import Queue, QueueManager
from laravel_queue.worker.heartbeat import WorkerRegistry

from .. import jobs
from ..support import ROOT, lines, wait_until

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


def test_a_sigkilled_worker_s_job_runs_again_within_twenty_seconds(
    sqlite_manager: QueueManager, trace: Path, lq_home: Path
) -> None:
    """With the defaults (no transport option set), the embedded SQLite queue brought a
    SIGKILLed worker's jobs back after 30-40 s, where Redis takes 3-10 s."""
    job_seconds = 15.0  # outlasts the second worker's start-up on a busy machine
    jobs.TakesAMoment.dispatch(str(trace), "long", job_seconds)
    env = {"PYTHONPATH": str(ROOT), "LQ_HOME": str(lq_home), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "laravel_queue.cli", "--app", "tests.jobs", "work", "-c", "1"]

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    first = start()
    wait_until(lambda: Queue.reserved_size() == 1, timeout=30)  # taken, running
    # The second worker is up before the kill: what is measured is the recovery, not how
    # long a worker takes to start on a busy machine.
    second = start()
    try:
        registry = WorkerRegistry(sqlite_manager.cache)
        wait_until(lambda: second.pid in {w.pid for w in registry.all()}, timeout=30)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
        wait_until(lambda: lines(trace), timeout=90)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
    back_after = time.monotonic() - killed_at - job_seconds  # less the job's own run
    print(f"the killed worker's job ran again {back_after:.1f}s after the kill")
    assert lines(trace)[0].startswith("long attempt=2"), lines(trace)
    assert back_after <= 20, back_after  # about 13 s: a 10 s TTL, checked every 2 s

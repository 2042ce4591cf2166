"""A whole worker SIGKILLed at random moments loses nothing (reliable fetch on Redis and on
the embedded SQLite default).

Kombu's Redis fetch takes a message (BRPOP) and marks it unacked in a second step, so a worker
killed in between loses it, and one killed after leaves it hidden for the visibility timeout;
Kombu's SQL fetch hides a taken row for good. Here every kill must leave every job to run:
the dead worker's in-flight jobs come back to the next worker once its heartbeat expires.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import QueueManager

from .. import jobs
from ..support import ROOT, PrivateRedis, lines, wait_until

pytestmark = pytest.mark.slow

JOBS = 300
KILLS = 20
CONCURRENCY = 2


@pytest.fixture(params=["redis", "sqlite"])
def worker_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    database = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = {"LQ_TEST_DATABASE": database, "LQ_TEST_FETCH_TTL": "2", "LQ_HOME": str(tmp_path)}
    if request.param == "sqlite":  # the embedded default: one file is broker and store
        return {**env, "LQ_TEST_BROKER": f"sqla+{database}"}
    server: PrivateRedis = request.getfixturevalue("server")
    return {**env, "LQ_TEST_BROKER": server.url(0), "LQ_TEST_CACHE": server.url(1)}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`lq work` in a session of its own (so its whole group can be killed), logging to
    `log`; returns once it is ready to take jobs."""
    start = log.stat().st_size if log.exists() else 0
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "laravel_queue.cli", "--app", "tests.apps", "work"),
            *("--sleep", "0.1", "--tries", "0", "--concurrency", str(CONCURRENCY)),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until(lambda: process.poll() is not None or "ready." in log.read_text()[start:])
    return process


def test_a_worker_killed_at_random_moments_loses_no_job(
    worker_env: dict[str, str], tmp_path: Path, trace: Path
) -> None:
    env = worker_env
    app = Celery("lq_tests", broker=env["LQ_TEST_BROKER"], set_as_current=False)
    manager = QueueManager(
        app, cache_url=env.get("LQ_TEST_CACHE"), database_url=env["LQ_TEST_DATABASE"]
    )
    names = [f"job{n}" for n in range(JOBS)]
    for name in names:
        jobs.TakesAMoment.dispatch(str(trace), name, 0.15)
    rng = random.Random(1042)
    log = tmp_path / "worker.log"
    for _ in range(KILLS):
        process = start_worker(env, log)
        time.sleep(rng.uniform(0.05, 1.0))  # a random moment of the drain
        os.killpg(process.pid, signal.SIGKILL)  # the main process and its pool at once
        process.wait(timeout=30)
    process = start_worker(env, log)
    try:
        done = lambda: {line.split()[0] for line in lines(trace)} >= set(names)  # noqa: E731
        wait_until(done, timeout=120, every=0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    runs = Counter(line.split()[0] for line in lines(trace))
    assert set(runs) == set(names), f"lost: {sorted(set(names) - set(runs))}"
    # A run cut short by a kill runs again (at least once): at most one per pool process a
    # kill. A job that finished and was acknowledged never runs again.
    extra_runs = sum(n - 1 for n in runs.values())
    assert extra_runs <= KILLS * CONCURRENCY, runs
    assert manager.failed.count() == 0
    # The instrument: kills did land while jobs were in flight, and those came back.
    recoveries = sum(int(n) for n in re.findall(r"recovered (\d+) in-flight", log.read_text()))
    assert recoveries >= KILLS // 2, log.read_text()[-3000:]
    print(f"{JOBS} jobs, {KILLS} kills, {recoveries} recoveries: 0 lost, {extra_runs} rerun")

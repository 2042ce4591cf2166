"""Big payloads: refused at dispatch over the limit, recorded if one arrives anyway, and a
worker over its `--memory` limit exits cleanly without losing a job."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from celery import Celery

from laravel_queue import Queue, QueueManager
from laravel_queue.exceptions import JobTooLargeError

from .. import jobs
from ..support import ROOT, ServiceUrls, lines, lq_running, publish_raw, wait_until

MIB = 1024 * 1024


def test_a_job_over_the_limit_is_refused_at_dispatch(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    with pytest.raises(JobTooLargeError, match=r"tests.jobs.Traced is 1,048,6\d\d bytes"):
        jobs.Traced.dispatch(str(trace), "x" * MIB)
    assert Queue.size() == 0
    small = QueueManager(database_url=sqlite_manager.database_url, max_payload_bytes=100)
    with pytest.raises(JobTooLargeError, match="over the limit of 100"):
        jobs.Traced.dispatch(str(trace), "x" * 100)
    small.engine.dispose()


def test_an_oversized_message_that_arrives_anyway_is_recorded(
    redis_urls: ServiceUrls, trace: Path, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'store.sqlite'}"
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=database, cache_url=redis_urls.cache)
    big = app.send_task(  # past dispatch's check: a producer of another program
        "tests.jobs.Traced", kwargs={"trace": str(trace), "name": "x" * MIB}, queue="default"
    )
    jobs.Traced.dispatch(str(trace), "after")
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database,
    }
    with lq_running("--app", "tests.apps", "work", "--sleep", "0.1", env=env):
        wait_until(lambda: lines(trace) and manager.failed.count() == 1, timeout=60)
    row = manager.failed.find(big.id)
    assert row is not None and "over the limit of 1,048,576" in row.exception
    assert [line.split()[0] for line in lines(trace)] == ["after"]


@pytest.mark.slow
def test_workers_over_their_memory_limit_exit_cleanly_and_lose_no_job(
    redis_urls: ServiceUrls, trace: Path, tmp_path: Path
) -> None:
    """Each job holds ~0.9 MiB of state; the limit is low enough that workers keep exiting
    with code 12. Every exit must be prompt, and every job must run."""
    database = f"sqlite:///{tmp_path / 'store.sqlite'}"
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    QueueManager(app, database_url=database, cache_url=redis_urls.cache)
    names = [f"big{n}:" + "x" * (900 * 1024) for n in range(30)]
    for name in names:
        jobs.Traced.dispatch(str(trace), name)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database,
        "LQ_TEST_FETCH_TTL": "2",
    }
    command = [
        *(sys.executable, "-m", "laravel_queue.cli", "--app", "tests.apps", "work"),
        *("--memory", "1", "--concurrency", "2", "--sleep", "0.1"),
    ]
    exits = []
    log = tmp_path / "worker.log"
    for _ in range(30):
        if len(lines(trace)) >= len(names):
            break
        with log.open("w") as output:
            worker = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=output)
            try:
                exits.append(worker.wait(timeout=60))
            except subprocess.TimeoutExpired as hung:
                worker.kill()
                raise AssertionError(f"it did not exit: {log.read_text()[-3000:]}") from hung
    ran = Counter(line.split(":")[0] for line in lines(trace))
    assert set(ran) == {name.split(":")[0] for name in names}, (ran, exits)
    assert set(exits) == {12}, exits


def test_refused_big_messages_cost_a_worker_nothing_once_recorded(
    redis_urls: ServiceUrls, postgres_url: str, trace: Path
) -> None:
    """5 undecodable and 10 over-limit 2 MB messages, then 20 good jobs, on `--concurrency 2
    --memory 128`: everything was recorded, but glibc kept the freed copies of each message
    in its heap, the main process grew past the limit and the worker exited 12 for memory,
    needing a second start."""
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=postgres_url, cache_url=redis_urls.cache)
    broker = redis.Redis.from_url(redis_urls.broker)
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": postgres_url,
    }
    args = ("--app", "tests.apps", "work", "--concurrency", "2", "--memory", "128")
    with lq_running(*args, env=env) as worker:
        broker.lpush("default", b"not json, small")  # the main process loads its store
        wait_until(lambda: manager.failed.count() == 1, timeout=60)
        time.sleep(1)
        before = _rss_mb(worker.process.pid)
        for _ in range(5):  # not a Kombu envelope at all
            broker.lpush("default", b"not json " + os.urandom(2 * MIB))
        publish_raw(app, [[], {"n": "x" * 2 * MIB}, None], {"task": "tests.jobs.Traced"}, count=10)
        for n in range(20):
            jobs.Traced.dispatch(str(trace), f"good{n}")
        peak = before
        while not (len(lines(trace)) == 20 and manager.failed.count() == 16):
            assert worker.process.poll() is None, "".join(worker.output)[-3000:]
            peak = max(peak, _rss_mb(worker.process.pid))
            time.sleep(0.1)
        time.sleep(3)  # the memory check runs every second
        assert worker.process.poll() is None, "".join(worker.output)[-3000:]
        after = _rss_mb(worker.process.pid)
    print(f"main process: {before} MB with its store, {peak} MB at most, {after} MB after")
    # Measured here: 90 MB with the store, 108 MB at most, 93 MB after; before the fix 120 MB
    # at most and 96 after (and 133 MB, over --memory, in a run with no test around it).
    assert peak - before <= 25 and after - before <= 10, (before, peak, after)
    assert worker.process.returncode == 0, "".join(worker.output)[-3000:]


def _rss_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024

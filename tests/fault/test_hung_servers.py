"""Servers that accept connections but answer nothing: nothing waits for them for long.

A frozen (SIGSTOPped) private Redis under `dispatch()`, and a failed-jobs PostgreSQL behind a
proxy that forwards nothing, under jobs that fail for good.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy.engine import make_url

from laravel_queue import QueueManager
from laravel_queue.db.engine import make_engine
from laravel_queue.exceptions import QueueConnectionError
from laravel_queue.failed.repository import FailedJobRepository

from .. import jobs
from ..support import ServiceUrls, TcpProxy, lq_running, private_redis, wait_until


def test_dispatch_to_a_frozen_redis_fails_within_the_bound(tmp_path: Path, trace: Path) -> None:
    with private_redis(tmp_path) as server:
        app = Celery("lq_tests", broker=server.url(0), set_as_current=False)
        manager = QueueManager(app, cache_url=server.url(1), database_url="sqlite://")
        jobs.Traced.dispatch(str(trace), "warm")  # connections made while it answers
        server.freeze()
        started = time.monotonic()
        with pytest.raises(QueueConnectionError, match="cannot queue the job"):
            jobs.Traced.dispatch(str(trace), "frozen")
        waited = time.monotonic() - started
        server.thaw()
        assert waited < 15, waited
        print(f"dispatch to a frozen Redis raised after {waited:.1f}s")
        manager.cache.close()


def test_failures_while_the_database_hangs_are_spooled_then_written(
    postgres_url: str, redis_urls: ServiceUrls, tmp_path: Path, trace: Path
) -> None:
    proxy = TcpProxy(5432)
    proxy.start()
    through_proxy = make_url(postgres_url).set(port=proxy.port).render_as_string(False)
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=through_proxy, cache_url=redis_urls.cache)
    manager.ensure_schema()
    direct = FailedJobRepository(make_engine(postgres_url))
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": through_proxy,
        "LQ_HOME": str(tmp_path),
    }
    args = ("--app", "tests.apps", "work", "--sleep", "0.1", "--concurrency", "2")
    try:
        with lq_running(*args, env=env) as worker:
            jobs.ManualFail.dispatch(str(trace), "before")
            wait_until(lambda: direct.count() == 1, timeout=30)  # pooled connections exist
            proxy.hang()
            started = time.monotonic()
            ids = [jobs.ManualFail.dispatch(str(trace), f"hung{n}") for n in range(10)]
            spool = tmp_path / ".lq"
            wait_until(lambda: spooled(spool) >= 10, timeout=60, every=0.2)
            spooled_within = time.monotonic() - started
            assert direct.count() == 1
            proxy.resume()
            wait_until(lambda: direct.count() == 11, timeout=60, every=0.5)
            assert worker.process.poll() is None
        assert {job.uuid for job in direct.iterate()} >= set(ids)
        assert spooled_within < 30, spooled_within
        print(f"10 failures spooled within {spooled_within:.1f}s of the database hanging")
    finally:
        proxy.resume()
        proxy.stop()
        direct.engine.dispose()
        manager.engine.dispose()


def spooled(directory: Path) -> int:
    """Records in the spool files under `directory` (the live one and any being drained)."""
    return sum(
        len(path.read_text().splitlines())
        for path in directory.glob("failed-spool-*")
        if path.is_file()
    )

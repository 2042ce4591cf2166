"""Servers that accept connections but answer nothing: nothing waits for them for long.

A frozen (SIGSTOPped) private Redis under `dispatch()`, and a failed-jobs PostgreSQL behind a
proxy that forwards nothing, under jobs that fail for good.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy.engine import make_url

from laravel_queue import Bus, QueueManager
from laravel_queue.db.engine import make_engine
from laravel_queue.exceptions import QueueConnectionError
from laravel_queue.failed.repository import FailedJobRepository

from .. import jobs
from ..support import ServiceUrls, TcpProxy, lq_running, private_redis, wait_until

DISPATCHES: dict[str, Callable[[QueueManager, str], object]] = {
    "dispatch": lambda manager, trace: jobs.Traced.dispatch(trace, "frozen"),
    "delayed dispatch": lambda manager, trace: jobs.Traced(trace, "later").delay(60).dispatch(),
    "Queue.bulk": lambda manager, trace: manager.connection().bulk(
        [jobs.Traced(trace, str(n)) for n in range(5)]
    ),
    "chain": lambda manager, trace: Bus.chain(
        [jobs.Traced(trace, "a"), jobs.Traced(trace, "b")]
    ).dispatch(),
    "batch": lambda manager, trace: Bus.batch(
        [jobs.Traced(trace, "a"), jobs.Traced(trace, "b")]
    ).dispatch(),
}


@pytest.mark.parametrize("warm", [True, False], ids=["connected", "first-use"])
def test_every_dispatch_to_a_frozen_redis_raises_within_five_seconds(
    tmp_path: Path, trace: Path, warm: bool
) -> None:
    """A frozen broker (SIGSTOP, as a network partition looks) held `dispatch()` for 10.6 s:
    Celery's 3 publish retries, each waiting the socket timeout again."""
    with private_redis(tmp_path) as server:
        app = Celery("lq_tests", broker=server.url(0), set_as_current=False)
        manager = QueueManager(
            app, cache_url=server.url(1), database_url=f"sqlite:///{tmp_path}/store.sqlite"
        )
        if warm:
            jobs.Traced.dispatch(str(trace), "warm")  # connections made while it answers
        server.freeze()
        waited = {}
        for name, dispatch in DISPATCHES.items():
            started = time.monotonic()
            with pytest.raises(QueueConnectionError, match="cannot queue the job"):
                dispatch(manager, str(trace))
            waited[name] = time.monotonic() - started
        server.thaw()
        print("raised after", {name: f"{seconds:.1f}s" for name, seconds in waited.items()})
        assert all(seconds <= 5.0 for seconds in waited.values()), waited
        manager.cache.close()


def test_dispatch_timeout_is_the_one_setting_that_bounds_it(tmp_path: Path, trace: Path) -> None:
    with private_redis(tmp_path) as server:
        app = Celery("lq_tests", broker=server.url(0), set_as_current=False)
        manager = QueueManager(
            app, cache_url=server.url(1), database_url="sqlite://", dispatch_timeout=1.0
        )
        jobs.Traced.dispatch(str(trace), "warm")
        server.freeze()
        started = time.monotonic()
        with pytest.raises(QueueConnectionError):
            jobs.Traced.dispatch(str(trace), "frozen")
        waited = time.monotonic() - started
        server.thaw()
        print(f"dispatch_timeout=1.0: raised after {waited:.2f}s")
        assert waited <= 1.0, waited
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

"""The batches database made unreachable, then unresponsive, in the middle of a batch: the
counts wait in the spool and end exact, and `then` and `finally` fire once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy.engine import make_url

from laravel_queue import Bus, QueueManager
from laravel_queue.bus.batch import Batch

from .. import jobs
from ..support import ServiceUrls, TcpProxy, lines, lq_running, wait_until

pytestmark = pytest.mark.slow

JOBS = 300


@pytest.mark.parametrize("fault", ["refused", "hung"])
def test_a_database_outage_mid_batch_delays_counts_and_loses_none(
    fault: str,
    postgres_url: str,
    redis_urls: ServiceUrls,
    tmp_path: Path,
    trace: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = TcpProxy(5432)
    proxy.start()
    through_proxy = make_url(postgres_url).set(port=proxy.port).render_as_string(False)
    callbacks = tmp_path / "callbacks.log"
    callbacks.touch()
    monkeypatch.setenv(jobs.CALLBACK_TRACE, str(callbacks))
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    direct = QueueManager(app, database_url=postgres_url, cache_url=redis_urls.cache)
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": through_proxy,
        "LQ_HOME": str(tmp_path),
        jobs.CALLBACK_TRACE: str(callbacks),
    }
    batch = (
        Bus.batch([jobs.TakesAMoment(str(trace), f"j{n}", 0.01) for n in range(JOBS)])
        .name("outage")
        .then(jobs.batch_then)
        .finally_(jobs.batch_finally)
        .dispatch()
    )
    args = ("--app", "tests.apps", "work", "--sleep", "0.1", "--concurrency", "2")
    try:
        with lq_running(*args, env=env) as worker:
            wait_until(lambda: len(lines(trace)) >= JOBS // 3, timeout=60)
            proxy.stop() if fault == "refused" else proxy.hang()
            wait_until(lambda: len(lines(trace)) >= 2 * JOBS // 3, timeout=60)
            spool = tmp_path / ".lq"
            # jobs keep running while the worker's count waits out the store timeout
            wait_until(lambda: any(spool.glob("batch-spool-*")), timeout=30)
            counted_meanwhile = Batch.find(direct, batch.id)
            time.sleep(1)
            proxy.start() if fault == "refused" else proxy.resume()
            try:
                wait_until(lambda: len(lines(callbacks)) >= 2, timeout=90, every=0.5)
            except AssertionError:  # say where it stopped: the counts, the spool, the log
                stuck = batch.fresh()
                raise AssertionError(
                    f"callbacks {lines(callbacks)}; pending {stuck.pending_jobs}, failed "
                    f"{stuck.failed_jobs}; spool {sorted(f.name for f in spool.iterdir())}; "
                    f"worker log tail: {''.join(worker.output[-40:])}"
                ) from None
    finally:
        proxy.stop()
    done = batch.fresh()
    assert counted_meanwhile is not None and counted_meanwhile.pending_jobs > 0
    assert (done.total_jobs, done.pending_jobs, done.failed_jobs) == (JOBS, 0, 0)
    assert lines(callbacks) == [
        "then outage pending=0 failed=0",
        "finally outage pending=0 failed=0",
    ]
    assert {line.split()[0] for line in lines(trace)} == {f"j{n}" for n in range(JOBS)}
    print(f"{fault}: {JOBS - counted_meanwhile.pending_jobs} counted before the outage ended")

"""The failover connection (Laravel 12.34's `failover` driver): pushes go to the first
connection that takes them, `QueueFailedOver` says when one did not; nothing is lost or
doubled when the first broker is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import Queue, QueueManager, events
from laravel_queue.exceptions import ConfigurationError, QueueConnectionError

from .. import jobs
from ..support import (
    PrivateRedis,
    ServiceUrls,
    lines,
    lq_running,
    private_redis,
    wait_until,
    worker,
)


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[PrivateRedis]:
    (tmp_path / "primary").mkdir()
    with private_redis(tmp_path / "primary") as server:
        yield server


@pytest.fixture
def failed_over() -> Iterator[list[events.QueueFailedOver]]:
    heard: list[events.QueueFailedOver] = []
    Queue.listen(events.QueueFailedOver, heard.append)
    yield heard
    events.listeners.forget(events.QueueFailedOver, heard.append)


def manager_with(primary: PrivateRedis, urls: ServiceUrls) -> QueueManager:
    app = Celery("lq_tests", broker=urls.broker, set_as_current=False)
    return QueueManager(
        app,
        cache_url=urls.cache,
        connections={"primary": primary.url(), "failover": "failover:primary,default"},
        dispatch_timeout=1,
    )


def ran_ids(trace: Path) -> list[str]:
    return [line.split("id=")[1] for line in lines(trace)]


def test_with_the_first_broker_down_1000_pushes_all_run_once(
    primary: PrivateRedis,
    redis_urls: ServiceUrls,
    lq_home: Path,
    trace: Path,
    failed_over: list[events.QueueFailedOver],
) -> None:
    manager = manager_with(primary, redis_urls)
    primary.stop()
    failover = Queue.connection("failover")
    ids = [failover.push(jobs.Traced(str(trace), f"j{n}")) for n in range(1000)]
    assert len(set(ids)) == 1000
    with worker(manager):  # on the default connection: the second of the failover's
        wait_until(lambda: len(lines(trace)) == 1000, timeout=120)
    assert sorted(ran_ids(trace)) == sorted(ids)  # each once
    assert [(e.connection_name, type(e.exception)) for e in failed_over] == [
        ("primary", QueueConnectionError)  # once for the outage, not once per job
    ]


def test_dispatch_and_bulk_fail_over_and_go_back_once_the_first_answers(
    primary: PrivateRedis,
    redis_urls: ServiceUrls,
    lq_home: Path,
    trace: Path,
    failed_over: list[events.QueueFailedOver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from laravel_queue.connections import failover as failover_module

    monkeypatch.setattr(failover_module, "RETRY_AFTER_SECONDS", 0.0)  # try the first each time
    manager = manager_with(primary, redis_urls)
    primary.stop()
    jobs.Traced(str(trace), "dispatched").on_connection("failover").dispatch()
    Queue.connection("failover").bulk([jobs.Traced(str(trace), "bulk")])
    assert manager.connection().pending_size() == 2
    primary.start()
    jobs.Traced(str(trace), "back").on_connection("failover").dispatch()
    assert manager.connection("primary").pending_size() == 1
    assert len(failed_over) == 1  # one outage


def test_every_connection_down_raises_the_last_error(
    primary: PrivateRedis, redis_urls: ServiceUrls, lq_home: Path, trace: Path
) -> None:
    app = Celery("lq_tests", broker="redis://127.0.0.1:1/0", set_as_current=False)
    QueueManager(
        app,
        cache_url=redis_urls.cache,
        connections={"primary": primary.url(), "failover": "failover:primary,default"},
        dispatch_timeout=1,
    )
    primary.stop()
    with pytest.raises(QueueConnectionError, match=r"127\.0\.0\.1:1"):
        jobs.Traced(str(trace)).on_connection("failover").dispatch()


def test_a_failover_naming_an_unknown_connection_is_refused_at_setup(lq_home: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"lists 'nowhere', which is not a connection"):
        QueueManager(connections={"failover": "failover:default,nowhere"})
    with pytest.raises(ConfigurationError, match="cannot list another failover connection"):
        QueueManager(connections={"a": "failover:default", "b": "failover:a"})


def test_lq_work_failover_runs_a_worker_per_connection(
    primary: PrivateRedis, redis_urls: ServiceUrls, lq_home: Path, trace: Path
) -> None:
    """Jobs pushed while the first broker was down, and after it came back, all run under
    one `lq work failover`."""
    manager = manager_with(primary, redis_urls)
    primary.stop()
    down = jobs.Traced(str(trace), "while-down").on_connection("failover").dispatch()
    primary.start()
    manager.connection("failover")._skip_until.clear()  # type: ignore[attr-defined]
    up = jobs.Traced(str(trace), "after").on_connection("failover").dispatch()
    assert manager.connection("primary").pending_size() == 1
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_PRIMARY": primary.url(),
        "LQ_HOME": str(lq_home),
    }
    with lq_running("--app", "tests.failover_app", "work", "failover", env=env) as running:
        wait_until(lambda: len(lines(trace)) == 2, timeout=60)
    assert sorted(ran_ids(trace)) == sorted([down, up])
    assert "a worker for each of primary, default" in "".join(running.output)

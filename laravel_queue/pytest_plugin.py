"""pytest fixtures for projects that use laravel_queue (registered as a `pytest11` entry
point, so installing the package is enough).

- `queue_fake`, `bus_fake`: `Queue.fake()` / `Bus.fake()` of the current manager for one
  test, restored afterwards (Laravel: `Queue::fake()` / `Bus::fake()` in a test's setUp).
- `lq_manager`: an isolated manager, made current: the embedded SQLite default in the test's
  temporary directory, or the broker, database and cache named by `LQ_TEST_BROKER_URL`,
  `LQ_TEST_DATABASE_URL` and `LQ_TEST_CACHE_URL`.
- `lq_worker`: a real worker in a thread, on `lq_manager`, for the queues of the test's
  `@pytest.mark.lq_queues("default", "mail")` marker (default: "default");
  `lq_worker.drain()` waits until what the test dispatched has run.
- `@pytest.mark.lq_each_broker`: run the test once on the embedded SQLite default and once
  on each URL of `LQ_TEST_BROKER_URLS` (comma-separated), through `lq_manager`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue.facades.bus import Bus
from laravel_queue.facades.queue import Queue
from laravel_queue.manager import QueueManager
from laravel_queue.testing import BusFake, QueueFake
from laravel_queue.worker.in_process import LqWorker, running_worker

EMBEDDED = "embedded"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lq_each_broker: run once on the embedded default and each LQ_TEST_BROKER_URLS"
    )
    config.addinivalue_line("markers", "lq_queues(*names): the queues lq_worker consumes")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("lq_each_broker") is None:
        return
    if "lq_manager" not in metafunc.fixturenames:
        raise pytest.UsageError("@pytest.mark.lq_each_broker needs the lq_manager fixture")
    urls = [u.strip() for u in os.environ.get("LQ_TEST_BROKER_URLS", "").split(",") if u.strip()]
    metafunc.parametrize("lq_manager", [EMBEDDED, *urls], indirect=True, ids=_broker_id)


def _broker_id(url: object) -> str:
    return str(url).partition("://")[0] or str(url)


@pytest.fixture
def queue_fake() -> Iterator[QueueFake]:
    """`Queue.fake()` for this test: pushed jobs are recorded, not sent."""
    with Queue.fake() as fake:
        yield fake


@pytest.fixture
def bus_fake() -> Iterator[BusFake]:
    """`Bus.fake()` for this test: dispatched jobs, chains and batches are recorded."""
    with Bus.fake() as fake:
        yield fake


@pytest.fixture
def lq_manager(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[QueueManager]:
    """An isolated manager for this test, made current (see the module's docstring)."""
    monkeypatch.setenv("LQ_HOME", str(tmp_path))
    broker = getattr(request, "param", None) or os.environ.get("LQ_TEST_BROKER_URL") or EMBEDDED
    app = None if broker == EMBEDDED else Celery("lq_test", broker=broker, set_as_current=False)
    manager = QueueManager(
        app,
        database_url=os.environ.get("LQ_TEST_DATABASE_URL")
        or f"sqlite:///{tmp_path / 'lq.sqlite'}",
        cache_url=os.environ.get("LQ_TEST_CACHE_URL") or None,
    )
    yield manager
    manager.close()


@pytest.fixture
def lq_worker(request: pytest.FixtureRequest, lq_manager: QueueManager) -> Iterator[LqWorker]:
    """A real worker in a thread on `lq_manager`; `lq_worker.drain()` runs what was sent."""
    marker = request.node.get_closest_marker("lq_queues")
    queues = list(marker.args) if marker is not None and marker.args else ["default"]
    with running_worker(lq_manager, queues) as worker:
        yield worker

"""Where the app has a Celery result backend, `AsyncResult(job_id)` (and Flower) see a job's
states and progress; without one, jobs need none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from celery.result import AsyncResult

from laravel_queue import Queue, QueueManager
from laravel_queue.runtime.results import ResultMirror

from .. import jobs
from ..support import ServiceUrls, lines, wait_until, worker


@pytest.fixture
def backed_manager(redis_urls: ServiceUrls, lq_home: Path) -> Iterator[QueueManager]:
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    app.conf.result_backend = redis_urls.cache
    manager = QueueManager(app, cache_url=redis_urls.cache)
    yield manager
    manager.cache.close()


def test_async_result_shows_progress_then_success(backed_manager: QueueManager) -> None:
    job_id = jobs.ReportsProgress(steps=40, seconds=2.0).dispatch()
    result = AsyncResult(str(job_id), app=backed_manager.app)
    with worker(backed_manager):
        seen = wait_until(lambda: result.state == "PROGRESS" and result.info)
        assert set(seen) == {"current", "total", "message", "percent"}
        assert seen["total"] == 40 and seen["message"] == "rows"
        wait_until(lambda: result.state == "SUCCESS", timeout=30)


def test_async_result_shows_a_failure_and_a_cancel(
    backed_manager: QueueManager, trace: Path
) -> None:
    failing = jobs.AlwaysFails(str(trace), "broken").dispatch()
    cancelled = jobs.Traced(str(trace), "never").dispatch()
    Queue.cancel(str(cancelled))
    with worker(backed_manager):
        failure = AsyncResult(str(failing), app=backed_manager.app)
        wait_until(lambda: failure.state == "FAILURE", timeout=30)
        assert isinstance(failure.result, ValueError) and "always fails" in str(failure.result)
        revoked = AsyncResult(str(cancelled), app=backed_manager.app)
        wait_until(lambda: revoked.state == "REVOKED", timeout=30)
    assert lines(trace)[-1] == "broken failed=ValueError fresh=True"
    assert not any(line.startswith("never") for line in lines(trace))


def test_without_a_result_backend_nothing_is_mirrored(
    redis_manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.Traced(str(trace)).dispatch()
    with worker(redis_manager):
        wait_until(lambda: (s := Queue.status(str(job_id))) and s.finished)
    assert ResultMirror.of(redis_manager.app, str(job_id)) is None
    assert Queue.status(str(job_id)).state == "succeeded"  # type: ignore[union-attr]

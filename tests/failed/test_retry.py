"""`failed:retry`: a fixed job runs again and succeeds; plain Celery tasks too; on every DB."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import QueueManager, events
from laravel_queue.events import JobRetryRequested
from laravel_queue.failed.replay import replay_message
from laravel_queue.messages.payload import JobMessage
from laravel_queue.messages.records import FailedJob

from .. import jobs
from ..cli.support import run_lq
from ..support import ServiceUrls, lines, wait_until, worker


@pytest.fixture
def store_manager(
    redis_urls: ServiceUrls, database_url: str, lq_home: Path
) -> Iterator[QueueManager]:
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=database_url, cache_url=redis_urls.cache)
    yield manager
    manager.engine.dispose()


def test_a_retried_job_runs_again_with_fresh_attempts_and_succeeds_once_fixed(
    store_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "bug"
    flag.touch()
    job_id = jobs.FailsWhileFlagged.dispatch(str(trace), str(flag))
    requested: list[JobRetryRequested] = []
    events.listeners.listen(JobRetryRequested, requested.append)
    try:
        with worker(store_manager):
            wait_until(lambda: store_manager.failed.count() == 1)
            flag.unlink()  # the fix is deployed
            result = run_lq(store_manager, "failed:retry", "all")
            assert result.exit_code == 0, result.output
            wait_until(lambda: "flagged succeeded" in lines(trace))
    finally:
        events.listeners.forget(JobRetryRequested, requested.append)
    assert [event.job.uuid for event in requested] == [job_id]
    assert store_manager.failed.count() == 0
    assert lines(trace) == [
        f"flagged attempt=1 id={job_id}",
        "flagged failed=RuntimeError fresh=True",
        f"flagged attempt=1 id={job_id}",  # same uuid, attempts reset
        "flagged succeeded",
    ]


def test_a_failed_plain_celery_task_is_recorded_and_retried(
    store_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "bug"
    flag.touch()
    sent = store_manager.app.send_task(
        "tests.plain.fails_while_flagged", args=[str(trace), str(flag)], queue="default"
    )
    with worker(store_manager):
        wait_until(lambda: store_manager.failed.count() == 1)
        [row] = store_manager.failed.all()
        assert row.uuid == sent.id and row.queue == "default"
        assert row.payload["args"] == [str(trace), str(flag)]
        assert "RuntimeError: plain task bug" in row.exception
        assert "Traceback" in row.exception
        flag.unlink()
        report = store_manager.failed.retry([row.id])
        assert report.retried == 1 and report.ok
        wait_until(lambda: "plain succeeded" in lines(trace))
    assert lines(trace) == ["plain ran", "plain ran", "plain succeeded"]
    assert store_manager.failed.count() == 0


def test_plain_tasks_are_not_recorded_when_capture_is_off(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    redis_manager.capture_plain_tasks = False
    flag = tmp_path / "bug"
    flag.touch()
    redis_manager.app.send_task(
        "tests.plain.fails_while_flagged", args=[str(trace), str(flag)], queue="default"
    )
    jobs.Traced.dispatch(str(trace), "after")  # one worker, one queue: runs after it settled
    with worker(redis_manager):
        wait_until(lambda: any(line.startswith("after ") for line in lines(trace)))
    assert "plain ran" in lines(trace)
    assert redis_manager.failed.count() == 0


def test_retry_recomputes_retry_until_and_resets_the_counts() -> None:
    header = {
        "uuid": "u1",
        "display_name": "tests.jobs.RetriesForAnHour",
        "retry_until": time.time() - 60,
        "attempts": 3,
        "exceptions": 2,
    }
    message = JobMessage(
        task="tests.jobs.RetriesForAnHour",
        id="u1",
        kwargs={"trace": "/dev/null", "name": "r"},
        queue="default",
        connection="default",
        headers={"lq": header},
    )
    row = FailedJob(1, "u1", "default", "default", message.to_dict(), "E", None)  # type: ignore[arg-type]
    replayed = replay_message(row).lq
    assert replayed is not None
    assert replayed.attempts == 0 and replayed.exceptions == 0
    assert replayed.retry_until is not None
    assert abs(replayed.retry_until - (time.time() + 3600)) < 60


def test_an_eager_run_of_a_plain_task_is_not_recorded(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "bug"
    flag.touch()
    task = redis_manager.app.tasks["tests.plain.fails_while_flagged"]
    assert task.apply(args=[str(trace), str(flag)]).failed()
    assert redis_manager.failed.count() == 0

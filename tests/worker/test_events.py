"""Job events from a real `lq work` process (prefork): Laravel's order, in the pool process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import QueueManager

from .. import jobs
from ..support import ServiceUrls, lines, lq_running, wait_until


@pytest.fixture
def env(redis_urls: ServiceUrls, tmp_path: Path) -> dict[str, str]:
    """What `tests.apps` needs to trace every event to LQ_TEST_EVENT_TRACE."""
    (tmp_path / "events.log").touch()
    return {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path / 'lq.sqlite'}",
        "LQ_TEST_EVENT_TRACE": str(tmp_path / "events.log"),
        "LQ_HOME": str(tmp_path),
    }


def manager_for(env: dict[str, str]) -> QueueManager:
    """This process's manager on the worker's broker, cache and database."""
    app = Celery("lq_tests", broker=env["LQ_TEST_BROKER"], set_as_current=False)
    return QueueManager(app, cache_url=env["LQ_TEST_CACHE"], database_url=env["LQ_TEST_DATABASE"])


def test_a_job_that_retries_twice_then_fails_fires_laravel_s_events_in_order(
    env: dict[str, str], trace: Path
) -> None:
    events_log = Path(env["LQ_TEST_EVENT_TRACE"])
    manager = manager_for(env)
    job_id = jobs.FailsThreeTimes(str(trace)).dispatch()
    with lq_running("--app", "tests.apps", "work", "--concurrency", "1", env=env):
        wait_until(lambda: manager.failed.count() == 1, timeout=60, every=0.2)
        wait_until(lambda: "JobAttempted" in lines(events_log)[-1], timeout=10)
    seen = lines(events_log)
    job_events = [line.split()[0] for line in seen if f" {job_id} " in line]
    retried = ["JobProcessing", "JobExceptionOccurred", "JobReleasedAfterException", "JobAttempted"]
    last = ["JobProcessing", "JobFailed", "JobExceptionOccurred", "JobAttempted"]
    job_events = [name for name in job_events if name != "JobPopped"]  # the main process's
    assert job_events == retried * 2 + last  # on the last attempt JobFailed comes first
    worker_pid = {line.split()[-1] for line in seen if line.startswith("WorkerStarting")}
    job_pids = {
        line.split()[-1] for line in seen if f" {job_id} " in line and "JobPopped" not in line
    }
    assert len(job_pids) == 1 and job_pids != worker_pid  # the pool process, not the main one
    assert os.getpid() not in {int(pid.removeprefix("pid=")) for pid in job_pids}


def test_laravel_13_s_worker_events_in_their_processes_and_order(
    env: dict[str, str], trace: Path
) -> None:
    """JobPopped in the main process as the message arrives; JobReleased after JobProcessed
    for a job that released itself; WorkerIdle while nothing runs; at SIGTERM,
    WorkerInterrupted before WorkerStopping."""
    events_log = Path(env["LQ_TEST_EVENT_TRACE"])
    manager_for(env)
    job_id = jobs.ReleasesOnce(str(trace)).dispatch()
    with lq_running("--app", "tests.apps", "work", "--concurrency", "1", env=env):
        wait_until(lambda: len(lines(trace)) == 2, timeout=60)
        wait_until(lambda: "WorkerIdle" in " ".join(lines(events_log)), timeout=10)
    seen = [line.split() for line in lines(events_log)]
    main_pid = next(line[-1] for line in seen if line[0] == "WorkerStarting")
    of_job = [
        (line[0], line[-1] == main_pid) for line in seen if len(line) == 3 and line[1] == job_id
    ]
    once = [("JobPopped", True), ("JobProcessing", False), ("JobProcessed", False)]
    assert of_job == [
        *once,
        ("JobReleased", False),  # after JobProcessed: the job released itself
        ("JobAttempted", False),
        *once,
        ("JobAttempted", False),
    ]
    worker = [line[0] for line in seen if line[-1] == main_pid and line[0].startswith("Worker")]
    assert worker[0] == "WorkerStarting" and worker[-2:] == ["WorkerInterrupted", "WorkerStopping"]
    assert "WorkerIdle" in worker

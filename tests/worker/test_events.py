"""Job events from a real `lq work` process (prefork): Laravel's order, in the pool process."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

from laravel_queue import QueueManager

from .. import jobs
from ..support import ServiceUrls, lines, lq_running, wait_until


def test_a_job_that_retries_twice_then_fails_fires_laravel_s_events_in_order(
    redis_urls: ServiceUrls, tmp_path: Path, trace: Path
) -> None:
    events_log = tmp_path / "events.log"
    events_log.touch()
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path / 'lq.sqlite'}",
        "LQ_TEST_EVENT_TRACE": str(events_log),
        "LQ_HOME": str(tmp_path),
    }
    app = Celery("lq_tests", broker=env["LQ_TEST_BROKER"], set_as_current=False)
    manager = QueueManager(
        app, cache_url=env["LQ_TEST_CACHE"], database_url=env["LQ_TEST_DATABASE"]
    )
    job_id = jobs.FailsThreeTimes(str(trace)).dispatch()
    with lq_running("--app", "tests.apps", "work", "--concurrency", "1", env=env):
        wait_until(lambda: manager.failed.count() == 1, timeout=60, every=0.2)
        wait_until(lambda: "JobAttempted" in lines(events_log)[-1], timeout=10)
    seen = lines(events_log)
    job_events = [line.split()[0] for line in seen if f" {job_id} " in line]
    retried = ["JobProcessing", "JobExceptionOccurred", "JobReleasedAfterException", "JobAttempted"]
    last = ["JobProcessing", "JobFailed", "JobExceptionOccurred", "JobAttempted"]
    assert job_events == retried * 2 + last  # on the last attempt JobFailed comes first
    worker_pid = {line.split()[-1] for line in seen if line.startswith("WorkerStarting")}
    job_pids = {line.split()[-1] for line in seen if f" {job_id} " in line}
    assert len(job_pids) == 1 and job_pids != worker_pid  # the pool process, not the main one
    assert os.getpid() not in {int(pid.removeprefix("pid=")) for pid in job_pids}

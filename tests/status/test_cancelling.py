"""`Queue.cancel(job_id)`: a waiting job never runs, a running one is asked to stop."""

from __future__ import annotations

import time
from pathlib import Path

from laravel_queue import Queue, QueueManager, events

from .. import jobs
from ..cli.support import run_lq
from ..support import lines, lq_running, wait_until, worker


def test_a_pending_job_cancelled_is_acknowledged_without_running_and_its_chain_stops(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    seen: list[events.JobCancelled] = []
    Queue.listen(events.JobCancelled, seen.append)
    try:
        job_id = (
            jobs.Traced(str(trace), "first").chain([jobs.Traced(str(trace), "next")]).dispatch()
        )
        assert job_id is not None
        assert Queue.cancel(job_id) is True
        status = Queue.status(job_id)
        assert status is not None and status.state == "cancelled"
        jobs.Traced(str(trace), "after").dispatch()
        with worker(sqlite_manager):
            wait_until(lambda: any(line.startswith("after") for line in lines(trace)))
    finally:
        events.listeners.forget(events.JobCancelled)
    assert [line.split()[0] for line in lines(trace)] == ["after"]
    assert [event.job.job_id for event in seen] == [job_id]
    assert Queue.size() == 0


def test_a_delayed_job_cancelled_before_it_is_due_never_runs_across_a_worker_restart(
    redis_manager: QueueManager, redis_urls: object, trace: Path, tmp_path: Path
) -> None:
    env = {
        "LQ_TEST_BROKER": redis_manager.app.conf.broker_url,
        "LQ_TEST_CACHE": redis_manager.cache_url,
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/store.sqlite",
    }
    job_id = jobs.Traced(str(trace), "delayed").delay(6).dispatch()
    assert job_id is not None
    command = ("--app", "tests.apps", "work", "--sleep", "0.1")
    with lq_running(*command, env=env):
        time.sleep(1)
        assert Queue.cancel(job_id) is True
    jobs.Traced(str(trace), "canary").delay(7).dispatch()  # due after the cancelled one
    with lq_running(*command, env=env):  # a worker started after the cancel
        wait_until(lambda: any(line.startswith("canary") for line in lines(trace)), timeout=30)
    assert [line.split()[0] for line in lines(trace)] == ["canary"]
    status = Queue.status(job_id)
    assert status is not None and status.state == "cancelled"


def test_a_running_job_sees_cancelled_turn_true_within_a_second(
    redis_manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.UntilCancelled(str(trace), "long").dispatch()
    assert job_id is not None
    with worker(redis_manager):
        wait_until(lambda: lines(trace) == ["long started"])
        cancelled_at = time.monotonic()
        assert Queue.cancel(job_id) is True
        wait_until(lambda: len(lines(trace)) == 2, timeout=5)
        assert time.monotonic() - cancelled_at < 1.5
        wait_until(lambda: (s := Queue.status(job_id)) and s.finished)
    assert lines(trace)[1] == "long cancelled=True"
    status = Queue.status(job_id)
    assert status is not None and status.state == "succeeded"  # it returned: it ended well


def test_cancelling_a_finished_job_says_it_already_finished(
    redis_manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.Traced(str(trace)).dispatch()
    assert job_id is not None
    with worker(redis_manager):
        wait_until(lambda: (s := Queue.status(job_id)) and s.finished)
    assert Queue.cancel(job_id) is False
    said = run_lq(redis_manager, "job:cancel", job_id)
    assert said.exit_code == 1
    assert "has already finished (succeeded)" in said.output
    assert run_lq(redis_manager, "job:cancel", "nope").exit_code == 1
    assert Queue.cancel("nope") is False


def test_job_cancel_cancels_a_waiting_job(redis_manager: QueueManager, trace: Path) -> None:
    job_id = jobs.Traced(str(trace)).delay(60).dispatch()
    assert job_id is not None
    said = run_lq(redis_manager, "job:cancel", job_id)
    assert said.exit_code == 0, said.output
    assert "is cancelled: it will not run" in said.output
    assert redis_manager.cancels.is_cancelled(job_id)

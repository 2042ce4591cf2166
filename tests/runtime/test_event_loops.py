"""`async def` jobs: handle, failed and middleware on one event loop per worker process (per
thread on the threads pool), timeouts cancelling the coroutine, release/fail/progress as for
sync jobs, the sync connection and `dispatch_sync` too."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import pytest

from laravel_queue import Queue, QueueManager
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.worker.pool_check import refuse_async_jobs_on

from .. import jobs
from ..support import lines, run_isolated, wait_until, worker


def fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)


def test_async_jobs_share_one_loop_in_a_worker(sqlite_manager: QueueManager, trace: Path) -> None:
    for n in range(5):
        jobs.AsyncSleeps.dispatch(str(trace), f"j{n}", 0.01)
    with worker(sqlite_manager):
        wait_until(lambda: len(lines(trace)) == 5)
    loops = {fields(line)["loop"] for line in lines(trace)}
    assert len(loops) == 1  # created at the first, reused by the others


def test_middleware_wraps_around_an_async_handle_on_every_layer(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    jobs.AsyncThroughMiddleware.dispatch(str(trace), "job", 0.01)
    with worker(sqlite_manager):
        wait_until(lambda: len(lines(trace)) == 5)
    assert [line.split()[0] + " " + line.split()[1] for line in lines(trace)] == [
        "outer before",
        "inner before",
        f"job pid={fields(lines(trace)[2])['pid']}",
        "inner after",
        "outer after",
    ]


def test_release_fail_and_progress_from_an_async_handle(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.AsyncReleasesThenFails.dispatch(str(trace), "job")
    with worker(sqlite_manager):
        wait_until(lambda: "job failed=" in " ".join(lines(trace)))
    assert lines(trace) == ["job releasing", "job failed=ManuallyFailedError"]
    status = Queue.status(job_id)
    assert status is not None and status.state == "failed" and status.attempts == 2
    assert status.progress is not None and status.progress.message == "half"
    [failure] = sqlite_manager.failed.all()
    assert "enough" in failure.exception


def test_a_timeout_cancels_the_coroutine_and_counts_an_attempt(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    """Two tries of a 1 s timeout on a job that sleeps 30 s: cancelled twice, then failed
    with TimeoutExceededError (on the solo pool, where Celery has no time limits at all)."""
    job = jobs.AsyncSleeps(str(trace), "slow", 30)
    job_id = Queue.push(job)
    with worker(sqlite_manager, timeout=1):
        wait_until(lambda: "slow failed=TimeoutExceededError" in lines(trace), timeout=30)
    assert lines(trace) == [
        "slow cancelled attempt=1",
        "slow cancelled attempt=2",
        "slow failed=TimeoutExceededError",
    ]
    [failure] = sqlite_manager.failed.all()
    assert failure.uuid == job_id and "TimeoutExceededError" in failure.exception


def test_dispatch_sync_runs_an_async_job_from_sync_and_from_async_code(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    jobs.AsyncSleeps.dispatch_sync(str(trace), "from-sync", 0)

    async def web_handler() -> None:  # a FastAPI endpoint calling dispatch_sync
        jobs.AsyncSleeps.dispatch_sync(str(trace), "from-async", 0)

    asyncio.run(web_handler())
    assert [line.split()[0] for line in lines(trace)] == ["from-sync", "from-async"]


def test_two_worker_processes_run_200_async_jobs_on_one_loop_each(
    trace: Path, lq_home: Path
) -> None:
    env_jobs = [jobs.AsyncSleeps(str(trace), f"j{n}", 0.05) for n in range(200)]
    QueueManager(home=lq_home)
    Queue.bulk(env_jobs)
    work = ["-m", "laravel_queue", "--app", "tests.jobs", "work", "-c", "2", "--stop-when-empty"]
    done = run_isolated(work, lq_home)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ran = [fields(line) for line in lines(trace)]
    assert len(ran) == 200
    loops_by_process: dict[str, set[str]] = defaultdict(set)
    for run in ran:
        loops_by_process[run["pid"]].add(run["loop"])
        assert run["loops"] == "1"  # the process created one loop, ever
    assert len(loops_by_process) == 2, loops_by_process.keys()  # both pool processes took some
    assert all(len(loops) == 1 for loops in loops_by_process.values())


def test_the_threads_pool_runs_a_loop_per_thread(trace: Path, lq_home: Path) -> None:
    QueueManager(home=lq_home)
    Queue.bulk([jobs.AsyncSleeps(str(trace), f"j{n}", 0.05) for n in range(40)])
    work = ["-m", "laravel_queue", "--app", "tests.jobs", "work", "--pool", "threads", "-c", "4"]
    done = run_isolated([*work, "--stop-when-empty"], lq_home)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ran = [fields(line) for line in lines(trace)]
    assert len(ran) == 40
    loops_by_thread: dict[str, set[str]] = defaultdict(set)
    for run in ran:
        loops_by_thread[run["thread"]].add(run["loop"])
    assert 1 < len(loops_by_thread) <= 4
    assert all(len(loops) == 1 for loops in loops_by_thread.values())


def test_a_green_pool_is_refused_at_start_naming_the_async_jobs(lq_home: Path) -> None:
    """`lq work` offers no green pool; a stock `celery worker -P gevent` stops at its
    consumer's start (gevent is not installed here to try it whole)."""
    done = run_isolated(["-m", "laravel_queue", "work", "--pool", "gevent"], lq_home)
    assert done.returncode == 2 and "'gevent' is not one of 'prefork', 'solo'" in done.stderr
    with pytest.raises(ConfigurationError, match=r"the gevent pool cannot run async def jobs"):
        refuse_async_jobs_on("gevent")
    refuse_async_jobs_on("prefork")
    steps = QueueManager(home=lq_home).app.steps["consumer"]
    assert "laravel_queue.worker.pool_check:AsyncJobsNeedALoop" in steps

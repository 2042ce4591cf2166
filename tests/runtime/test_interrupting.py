"""`interrupted(reason)` (Laravel 13's `Interruptible`): a cancel and a warm shutdown reach
the running job, in its own process, on the thread running `handle()`."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from laravel_queue import Queue, QueueManager

from .. import jobs
from ..support import lines, lq_running, wait_until


def _env(manager: QueueManager, tmp_path: Path) -> dict[str, str]:
    return {
        "LQ_TEST_BROKER": manager.app.conf.broker_url,
        "LQ_TEST_CACHE": manager.cache_url,
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/store.sqlite",
    }


def _pid_of(line: str) -> str:
    return next(word for word in line.split() if word.startswith("pid="))


def test_a_cancel_calls_interrupted_in_the_jobs_process_on_its_thread(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    job_id = jobs.SavesItsPlace(str(trace), "import").dispatch()
    assert job_id is not None
    with lq_running("--app", "tests.apps", "work", env=_env(redis_manager, tmp_path)):
        wait_until(lambda: len(lines(trace)) == 1, timeout=30)
        assert Queue.cancel(job_id) is True
        wait_until(lambda: len(lines(trace)) == 2, timeout=5)
        wait_until(lambda: (s := Queue.status(job_id)) and s.finished)
    started, told = lines(trace)
    assert told.startswith("import interrupted=cancelled")
    assert _pid_of(told) == _pid_of(started)  # the pool process running the job
    assert told.endswith("thread=MainThread")  # between two statements of handle()
    status = Queue.status(job_id)
    assert status is not None and status.state == "succeeded"  # it returned


def test_sigterm_to_the_worker_calls_interrupted_and_the_job_goes_on_after_a_restart(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    job_id = jobs.SavesItsPlace(str(trace), "import").dispatch()
    assert job_id is not None
    env = _env(redis_manager, tmp_path)
    with lq_running("--app", "tests.apps", "work", env=env) as worker:
        wait_until(lambda: len(lines(trace)) == 1, timeout=30)
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0
    started, told = lines(trace)
    assert told.startswith("import interrupted=shutdown")
    assert _pid_of(told) == _pid_of(started) and told.endswith("thread=MainThread")
    status = Queue.status(job_id)
    assert status is not None and status.state == "released"  # it saved its place
    with lq_running("--app", "tests.apps", "work", env=env):
        wait_until(lambda: (s := Queue.status(job_id)) and s.state == "succeeded", timeout=30)
    assert lines(trace)[2].startswith("import started attempt=2")


def test_a_warm_shutdown_of_a_solo_worker_tells_the_job_it_runs(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    jobs.SavesItsPlace(str(trace), "import").dispatch()
    command = ("--app", "tests.apps", "work", "--pool", "solo")
    with lq_running(*command, env=_env(redis_manager, tmp_path)) as worker:
        wait_until(lambda: len(lines(trace)) == 1, timeout=30)
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0
    assert lines(trace)[1].startswith("import interrupted=shutdown")
    assert _pid_of(lines(trace)[1]) == f"pid={worker.process.pid}"


def test_cancel_with_terminate_kills_the_pool_process_and_the_job_ends_cancelled(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    job_id = jobs.SavesItsPlace(str(trace), "stuck").dispatch()
    assert job_id is not None
    with lq_running("--app", "tests.apps", "work", env=_env(redis_manager, tmp_path)) as worker:
        wait_until(lambda: len(lines(trace)) == 1, timeout=30)
        pool_process = int(_pid_of(lines(trace)[0]).removeprefix("pid="))
        assert Queue.cancel(job_id, terminate=True) is True
        wait_until(lambda: not _alive(pool_process), timeout=5)
        wait_until(lambda: (s := Queue.status(job_id)) and s.state == "cancelled", timeout=30)
        jobs.Traced(str(trace), "next").dispatch()
        wait_until(lambda: lines(trace)[-1].startswith("next"), timeout=30)
        assert worker.process.poll() is None  # the worker lives on, with a new pool process
    assert len(lines(trace)) == 2  # never told, never run again: killed, then acknowledged


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

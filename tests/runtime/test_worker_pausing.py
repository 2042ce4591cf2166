"""SIGUSR2 pauses a whole worker and SIGCONT resumes it (Laravel 13's `queue:work`), with
`WorkerPausing` and `WorkerResuming`; a job's own interruptions travel on another signal."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from laravel_queue import QueueManager

from .. import jobs
from ..support import lines, lq_running, wait_until


def test_sigusr2_pauses_the_worker_and_sigcont_resumes_it(
    sqlite_manager: QueueManager, trace: Path, lq_home: Path
) -> None:
    env = {"LQ_HOME": str(lq_home)}
    with lq_running("--app", "tests.jobs", "work", "-c", "1", env=env) as worker:
        wait_until(lambda: "ready." in "".join(worker.output), timeout=30)
        worker.process.send_signal(signal.SIGUSR2)
        wait_until(lambda: "worker pausing" in "".join(worker.output), timeout=10)
        jobs.Traced.dispatch(str(trace), "waits")
        time.sleep(2)
        assert lines(trace) == []  # paused: nothing taken
        worker.process.send_signal(signal.SIGCONT)
        wait_until(lambda: lines(trace), timeout=10)
        assert "worker resuming" in "".join(worker.output)
    assert worker.process.returncode == 0

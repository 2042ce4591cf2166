"""Mistakes a newcomer makes get a message that says what to do, before anything is queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from laravel_queue import Queue, QueueManager

from . import jobs
from .support import run_isolated


def test_pushing_a_class_or_a_name_says_to_build_the_job(sqlite_manager: QueueManager) -> None:
    with pytest.raises(TypeError, match=r"got the class Traced; pass Traced\(...\)"):
        Queue.push(jobs.Traced)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="build the job first"):
        Queue.push("tests.jobs.Traced")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got the class Traced"):
        Queue.bulk([jobs.Traced])  # type: ignore[list-item]
    assert Queue.size() == 0


SCRIPT = """
from laravel_queue import Job, QueueManager
from laravel_queue.exceptions import ConfigurationError

QueueManager()


class SendInvoice(Job):
    def __init__(self, n):
        self.n = n

    def handle(self):
        pass


try:
    SendInvoice.dispatch(1042)
except ConfigurationError as exc:
    print(exc)
SendInvoice.dispatch_sync(1042)  # runs here: no worker has to import it
print("sync ran")
"""


def test_a_job_defined_in_the_running_script_is_refused_at_dispatch(tmp_path: Path) -> None:
    done = run_isolated(["-c", SCRIPT], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "defined in the script being run (__main__)" in done.stdout
    assert "move it into a module" in done.stdout and "sync ran" in done.stdout

"""Release.when / Release.unless (Laravel 13): the job goes back on its queue without
running, the run counted as an attempt unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from laravel_queue import Queue, QueueManager
from laravel_queue.middleware import Release

from .. import jobs
from ..support import lines, wait_until, worker


def test_release_settles_its_condition_when_built() -> None:
    calls: list[int] = []
    release = Release.when(lambda: bool(calls.append(1)) or True, 30)
    assert release == Release(True, 30) and calls == [1]
    assert Release.unless(False).release is True and Release.unless(True).release is False


@pytest.mark.parametrize(("count_attempt", "attempt"), [(True, 2), (False, 1)])
def test_a_released_job_comes_back_and_runs_once_the_condition_clears(
    sqlite_manager: QueueManager, trace: Path, tmp_path: Path, count_attempt: bool, attempt: int
) -> None:
    flag = tmp_path / "busy"
    flag.touch()
    job_id = jobs.WaitsForTheFlag.dispatch(str(trace), str(flag), count_attempt=count_attempt)
    unless_id = jobs.WaitsForTheFlag.dispatch(str(trace), str(tmp_path / "ready"), unless=True)
    with worker(sqlite_manager):
        for released in (job_id, unless_id):
            wait_until(lambda r=released: (s := Queue.status(r)) and s.state == "released")
        assert lines(trace) == []  # handle() ran for neither
        flag.unlink()
        (tmp_path / "ready").touch()
        wait_until(lambda: len(lines(trace)) == 2)
    assert f"waits attempt={attempt} id={job_id}" in lines(trace)
    assert sqlite_manager.failed.count() == 0

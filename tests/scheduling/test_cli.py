"""`lq schedule:*` and `lq work --with-scheduler`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from laravel_queue import Queue, QueueManager, Schedule

from .. import jobs
from ..cli.support import run_lq
from ..support import lines, lq_running, wait_until


@pytest.fixture(autouse=True)
def empty_schedule() -> Iterator[None]:
    Schedule.clear()
    yield
    Schedule.clear()


def test_list_test_pause_and_resume(sqlite_manager: QueueManager, trace: Path) -> None:
    assert "no scheduled events" in run_lq(sqlite_manager, "schedule:list").output
    Schedule.job(jobs.Traced(str(trace), "report")).daily_at("02:30").timezone(
        "Europe/Berlin"
    ).name("reports").on_one_server()
    listed = json.loads(run_lq(sqlite_manager, "schedule:list", "--json").output)
    assert [(e["name"], e["expression"], e["timezone"]) for e in listed] == [
        ("reports", "0 30 2 * * *", "Europe/Berlin")
    ]
    assert listed[0]["next_due"].endswith(("+01:00", "+02:00"))
    tested = run_lq(sqlite_manager, "schedule:test", "report")
    assert tested.exit_code == 0 and Queue.pending_size() == 1
    assert run_lq(sqlite_manager, "schedule:test", "nothing").exit_code == 1
    run_lq(sqlite_manager, "schedule:pause")
    assert "paused" in run_lq(sqlite_manager, "schedule:list").output
    run_lq(sqlite_manager, "schedule:resume")
    assert "paused" not in run_lq(sqlite_manager, "schedule:list").output


def test_lq_work_with_scheduler_dispatches_and_runs_in_one_process(
    tmp_path: Path, lq_home: Path
) -> None:
    dispatched = tmp_path / "dispatched.log"
    dispatched.touch()
    env = {"LQ_TEST_SCHEDULE_TRACE": str(dispatched), "LQ_HOME": str(lq_home)}
    with lq_running("--app", "tests.schedule_app", "work", "--with-scheduler", env=env) as w:
        wait_until(lambda: len(lines(dispatched)) >= 3, timeout=30)
    assert all(line.startswith(("every-second ", "every-minute ")) for line in lines(dispatched))
    assert any("dispatched" in line for line in w.output), "".join(w.output)

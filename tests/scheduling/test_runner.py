"""The scheduler on a clock the test turns: due times, time zones across daylight-saving
changes, conditions, one server among many, pausing and the events it fires."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from laravel_queue import Queue, QueueManager, Schedule, events
from laravel_queue.scheduling import Scheduler

from .. import jobs
from ..support import wait_until, worker

BERLIN = ZoneInfo("Europe/Berlin")


def at(*moment: int, zone: ZoneInfo = BERLIN) -> float:
    return datetime(*moment, tzinfo=zone).timestamp()  # type: ignore[misc]


@pytest.fixture(autouse=True)
def empty_schedule() -> Iterator[None]:
    Schedule.clear()
    yield
    Schedule.clear()


def berlin(times: list[float]) -> list[str]:
    return [datetime.fromtimestamp(t, BERLIN).isoformat() for t in times]


def test_a_daily_0230_event_across_both_daylight_saving_changes_in_berlin() -> None:
    """Debian cron's rules (cronsim): on the night 02:30 does not exist it runs at 03:00, the
    first moment after the gap; on the night 02:30 happens twice it runs once, the first."""
    event = Schedule.job(jobs.Traced("/dev/null")).daily_at("02:30").timezone("Europe/Berlin")
    spring = list(event.due_times(at(2026, 3, 28, 12), at(2026, 3, 31, 12)))
    assert berlin(spring) == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]
    autumn = list(event.due_times(at(2026, 10, 24, 12), at(2026, 10, 26, 12)))
    assert berlin(autumn) == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]


def test_due_times_are_those_after_the_last_pass_up_to_this_one() -> None:
    every_20s = Schedule.job(jobs.Traced("/dev/null")).every_twenty_seconds()
    start = at(2026, 12, 6, 12, 0, 0)
    assert [t - start for t in every_20s.due_times(start, start + 60)] == [20, 40, 60]
    assert list(every_20s.due_times(start + 1, start + 19)) == []


def test_one_pass_dispatches_each_due_time_and_fires_the_events(
    redis_manager: QueueManager, trace: Path
) -> None:
    fired: list[str] = []
    for kind in (events.ScheduledTaskStarting, events.ScheduledTaskFinished):
        Queue.listen(kind, lambda e: fired.append(type(e).__name__))
    Schedule.job(jobs.Traced(str(trace), "minutely")).every_minute()
    Schedule.job(jobs.Traced(str(trace), "hourly")).hourly()
    start = at(2026, 12, 6, 12, 0, 30)
    runs = Scheduler(redis_manager, Schedule.events()).run_due(start, start + 120)
    assert [(r.event.description, r.outcome) for r in runs] == [
        ("tests.jobs.Traced", "dispatched"),  # 12:01
        ("tests.jobs.Traced", "dispatched"),  # 12:02
    ]
    assert Queue.pending_size() == 2
    assert fired == ["ScheduledTaskStarting", "ScheduledTaskFinished"] * 2


def test_on_one_server_dispatches_each_due_time_once_among_many_schedulers(
    redis_manager: QueueManager, trace: Path
) -> None:
    Schedule.job(jobs.Traced(str(trace))).every_second().on_one_server()
    Schedule.job(jobs.Traced(str(trace))).every_ten_seconds()  # on every scheduler
    schedulers = [Scheduler(redis_manager, Schedule.events()) for _ in range(4)]
    start = at(2026, 12, 6, 12, 0, 0) + 0.5
    outcomes: list[str] = []
    for second in range(0, 30, 3):  # each scheduler's passes cover different spans
        for n, scheduler in enumerate(schedulers):
            after = start + second + n % 2
            outcomes += [r.outcome for r in scheduler.run_due(after, after + 3)]
    # 31 seconds of every_second, each claimed once; every_ten_seconds on each of the 4
    assert outcomes.count("dispatched") == 31 + 4 * 3
    assert Queue.pending_size() == 31 + 4 * 3


def test_conditions_skip_and_fire_skipped(sqlite_manager: QueueManager, trace: Path) -> None:
    skipped: list[float] = []
    Queue.listen(events.ScheduledTaskSkipped, lambda e: skipped.append(e.due_at))
    allowed = {"now": False}
    Schedule.job(jobs.Traced(str(trace))).every_minute().when(lambda: allowed["now"])
    scheduler = Scheduler(sqlite_manager, Schedule.events())
    start = at(2026, 12, 6, 12, 0, 30)
    assert [r.outcome for r in scheduler.run_due(start, start + 60)] == ["skipped"]
    allowed["now"] = True
    assert [r.outcome for r in scheduler.run_due(start + 60, start + 120)] == ["dispatched"]
    assert skipped == [at(2026, 12, 6, 12, 1)]


def test_a_paused_schedule_dispatches_nothing_until_resumed(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    Schedule.job(jobs.Traced(str(trace))).every_minute()
    scheduler = Scheduler(sqlite_manager, Schedule.events())
    start = at(2026, 12, 6, 12, 0, 30)
    scheduler.pause()
    assert scheduler.is_paused() and scheduler.run_due(start, start + 60) == []
    Scheduler(sqlite_manager, Schedule.events()).resume()  # from another process, as lq does
    assert [r.outcome for r in scheduler.run_due(start, start + 60)] == ["dispatched"]


def test_a_dispatch_that_fails_fires_failed_and_the_next_event_still_runs(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    failed: list[str] = []
    Queue.listen(events.ScheduledTaskFailed, lambda e: failed.append(str(e.exception)))
    Schedule.job(jobs.Traced(str(trace), "lost")).every_minute().on_connection("nowhere")
    Schedule.job(jobs.Traced(str(trace), "fine")).every_minute()
    start = at(2026, 12, 6, 12, 0, 30)
    runs = Scheduler(sqlite_manager, Schedule.events()).run_due(start, start + 60)
    assert [r.outcome for r in runs] == ["failed", "dispatched"]
    assert len(failed) == 1 and "nowhere" in failed[0]


def test_without_overlapping_waits_for_the_last_job_to_finish_or_the_hold_to_expire(
    sqlite_manager: QueueManager, trace: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="laravel_queue.schedule")
    Schedule.job(jobs.Traced(str(trace))).every_minute().without_overlapping(expires_at=4)
    scheduler = Scheduler(sqlite_manager, Schedule.events())
    start = at(2026, 12, 6, 12, 0, 30)
    [first] = scheduler.run_due(start, start + 60)
    assert first.outcome == "dispatched"
    wait_until(lambda: Queue.status(first.job_id or ""))  # pending, written behind the dispatch
    [second] = scheduler.run_due(start + 60, start + 120)
    assert second.outcome == "overlapping"  # the first is still pending
    assert scheduler.run_due(start + 60, start + 120)[0].outcome == "overlapping"  # again
    held = [r.message for r in caplog.records if "held back until" in r.message]
    # said once per job it waits for, not at every due time
    assert held == [
        f"scheduled {first.event.description} held back until its last job {first.job_id} finishes"
    ]
    with worker(sqlite_manager):
        wait_until(lambda: (s := Queue.status(first.job_id or "")) and s.finished)
    [third] = scheduler.run_due(start + 120, start + 180)
    third_at = time.monotonic()
    assert third.outcome == "dispatched"
    # (a 2 s hold had expired before the second pass once, 1 run in 7, under load)
    time.sleep(max(0.0, third_at + 4.5 - time.monotonic()))  # the hold expires, unrun
    [fourth] = scheduler.run_due(start + 180, start + 240)
    assert fourth.outcome == "dispatched"


def test_catch_up_dispatches_one_missed_run_once(
    sqlite_manager: QueueManager, trace: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="laravel_queue.schedule")
    Schedule.job(jobs.Traced(str(trace))).daily_at("02:00").catch_up(within=3600)
    Schedule.job(jobs.Traced(str(trace))).daily_at("01:00").catch_up(within=3600)  # too long ago
    now = at(2026, 12, 6, 2, 30, zone=ZoneInfo("UTC"))
    first = Scheduler(sqlite_manager, Schedule.events()).catch_up(now)
    assert [(r.due_at, r.outcome) for r in first] == [(now - 1800, "dispatched")]
    assert "catching up its run due at 2026-12-06 02:00:00 UTC" in caplog.text
    again = Scheduler(sqlite_manager, Schedule.events()).catch_up(now + 5)  # another start
    assert again == []
    assert Queue.pending_size() == 1

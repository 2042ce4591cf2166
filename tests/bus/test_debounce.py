"""Debounced jobs (Laravel 13 `#[DebounceFor]`): of a burst of dispatches with one debounce
key only the last runs, `debounce_for` after it; `debounce_max_wait` bounds a burst that
never pauses; replaced copies end as `debounced`, never as failures."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from laravel_queue import Job, Queue, QueueManager, ShouldBeUnique, events
from laravel_queue.exceptions import ConfigurationError

from .. import jobs
from ..support import ROOT, lines, lq_running, run_isolated, wait_until, worker


def names(trace: Path) -> list[str]:
    return [line.split()[0] for line in lines(trace)]


def work_until_empty(lq_home: Path) -> str:
    """A real `lq work --stop-when-empty` on the embedded default; its log."""
    time.sleep(1.5)  # every copy is due (debounce_for = 1): --stop-when-empty counts them
    work = ["-m", "laravel_queue", "--app", "tests.jobs", "work", "--stop-when-empty"]
    done = run_isolated(work, lq_home)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout + done.stderr


def test_a_burst_of_dispatches_runs_once_with_the_last_state(
    sqlite_manager: QueueManager, trace: Path, lq_home: Path
) -> None:
    ids = [jobs.Debounced.dispatch(str(trace), f"n{n}") for n in range(50)]
    jobs.Debounced.dispatch(str(trace), "other-key", key="other")
    log = work_until_empty(lq_home)
    assert sorted(names(trace)) == ["n49", "other-key"]  # one run per key, the last state
    states = [status.state for status in map(Queue.status, ids) if status is not None]
    assert states == ["debounced"] * 49 + ["succeeded"]
    assert log.count("a later dispatch replaced it") == 49
    assert sqlite_manager.failed.count() == 0


def test_jobdebounced_fires_in_the_worker_between_processing_and_processed(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    fired: list[str] = []
    kinds = (events.JobProcessing, events.JobDebounced, events.JobProcessed, events.JobAttempted)
    for kind in kinds:
        Queue.listen(kind, lambda event: fired.append(type(event).__name__))
    try:
        first = jobs.Debounced.dispatch(str(trace), "first")
        jobs.Debounced.dispatch(str(trace), "second")
        with worker(sqlite_manager):
            # (not Queue.size() == 0: it reads 0 for a moment while a due job moves)
            wait_until(lambda: len(fired) == 7, timeout=30)
    finally:
        for kind in kinds:
            events.listeners.forget(kind)
    assert names(trace) == ["second"]
    assert fired == [
        "JobProcessing",
        "JobDebounced",
        "JobProcessed",
        "JobAttempted",  # the first
        "JobProcessing",
        "JobProcessed",
        "JobAttempted",
    ], first


def test_max_wait_runs_a_steady_stream_every_max_wait(
    sqlite_manager: QueueManager, trace: Path, lq_home: Path
) -> None:
    """A dispatch every 0.5 s for 6 s, debounced 1 s (so the burst never pauses) with at most
    2 s of wait, a real `lq work` running: it runs while the stream lasts, about every 2 s,
    and once after it."""
    env = {"LQ_HOME": str(lq_home)}
    with lq_running("--app", "tests.jobs", "work", "-c", "1", env=env) as running:
        wait_until(lambda: "ready." in "".join(running.output), timeout=30)
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 6:
            jobs.DebouncedAtMost.dispatch(str(trace), f"n{n}")
            n += 1
            time.sleep(0.5)
        during = names(trace)
        wait_until(lambda: names(trace)[-1:] == [f"n{n - 1}"], timeout=30)
    ran = names(trace)
    print(f"{n} dispatches; ran {ran} ({len(during)} while they came)")
    assert during, "max_wait never fired: without it nothing runs while the burst lasts"
    assert 2 <= len(ran) <= 4, ran  # at about 2 s and 4.5 s, then the last, after the burst


def test_a_delay_of_its_own_and_dispatch_sync(sqlite_manager: QueueManager, trace: Path) -> None:
    job_id = jobs.Debounced(str(trace), "delayed").delay(30).dispatch()
    [parked] = Queue.delayed()
    assert parked.uuid == job_id and parked.available_at is not None
    assert parked.available_at > time.time() + 25  # its own delay, not debounce_for
    jobs.Debounced.dispatch_sync(str(trace), "now")  # not debounced: runs here and now
    assert names(trace) == ["now"]


def test_the_fluent_form_debounces_any_job(sqlite_manager: QueueManager, trace: Path) -> None:
    ids = [jobs.Traced(str(trace), f"t{n}").debounce(0.5).dispatch() for n in range(3)]

    def ended() -> bool:
        statuses = [Queue.status(job_id or "") for job_id in ids]
        return all(status is not None and status.finished for status in statuses)

    with worker(sqlite_manager):
        wait_until(ended, timeout=30)
    assert names(trace) == ["t2"]


def test_bad_debounce_settings_are_refused_at_setup(sqlite_manager: QueueManager) -> None:
    with pytest.raises(ConfigurationError, match="both unique and debounced"):

        class UniqueAndDebounced(Job, ShouldBeUnique):
            debounce_for = 5

    with pytest.raises(ConfigurationError, match=r"debounce_max_wait \(2 s\) is shorter"):

        class WaitsTooLittle(Job):
            debounce_for = 5
            debounce_max_wait = 2

    with pytest.raises(ConfigurationError, match="debounce_for must be over 0 seconds"):
        jobs.Traced("unused").debounce(0)
    with pytest.raises(ConfigurationError, match="is unique: it cannot be debounced"):
        jobs.SyncsAccount("unused", "x", 1).debounce(5).dispatch()
    assert Queue.size() == 0


@pytest.mark.slow
def test_four_processes_dispatching_at_once_make_one_run(trace: Path, lq_home: Path) -> None:
    """Four processes each dispatch 25 copies at the same instant; a real `lq work` runs one
    of the 100 (the last written token's), and ends the 99 others as debounced."""
    script = (
        "import sys, time; from tests import jobs; "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
        "[jobs.Debounced.dispatch(sys.argv[1], f'p{sys.argv[3]}-{n}') for n in range(25)]"
    )
    start_at = str(time.time() + 3)
    dispatchers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(trace), start_at, str(p)],
            env={"PYTHONPATH": str(ROOT), "LQ_HOME": str(lq_home), "PATH": "/usr/bin:/bin"},
            cwd=ROOT,
        )
        for p in range(4)
    ]
    assert all(process.wait(timeout=60) == 0 for process in dispatchers)
    log = work_until_empty(lq_home)
    assert len(lines(trace)) == 1, lines(trace)
    assert log.count("a later dispatch replaced it") == 99

"""Laravel's attempt, retry and failure rules, on every broker (semantics §0.2-§0.5, §1.2)."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest

from laravel_queue import QueueManager
from laravel_queue.exceptions import MaxAttemptsExceededError

from .. import jobs
from ..support import lines, wait_until, worker


def failed_rows(manager: QueueManager) -> list[str]:
    return [row.exception.splitlines()[-1] for row in manager.failed.all()]


def test_a_job_runs_once_and_is_gone(manager: QueueManager, trace: Path) -> None:
    job_id = jobs.Traced.dispatch(str(trace), "hello")
    with worker(manager):
        wait_until(lambda: lines(trace))
    assert lines(trace) == [f"hello attempt=1 id={job_id}"]
    assert manager.failed.all() == []


def test_an_exception_retries_until_it_succeeds_with_the_same_uuid(
    manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.FailsUntil.dispatch(str(trace), 3)
    with worker(manager):
        wait_until(lambda: len(lines(trace)) == 3, timeout=30)
    assert lines(trace) == [f"flaky attempt={n} id={job_id}" for n in (1, 2, 3)]
    assert manager.failed.all() == []


def test_exhausted_tries_fail_the_job_and_call_failed_on_a_fresh_instance(
    manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.AlwaysFails.dispatch(str(trace), "doomed")
    with worker(manager):
        wait_until(lambda: manager.failed.all(), timeout=30)
    assert lines(trace) == [
        f"doomed attempt=1 id={job_id}",
        f"doomed attempt=2 id={job_id}",
        "doomed failed=ValueError fresh=True",
    ]
    [row] = manager.failed.all()
    assert row.uuid == job_id
    assert "ValueError: always fails" in row.exception
    payload = row.payload
    assert payload["task"] == "tests.jobs.AlwaysFails"
    assert payload["kwargs"] == {"trace": str(trace), "name": "doomed"}
    assert payload["headers"]["lq"]["uuid"] == job_id
    assert json.loads(json.dumps(payload)) == payload


def test_a_release_spends_an_attempt_and_the_job_then_fails_without_running(
    manager: QueueManager, trace: Path
) -> None:
    jobs.Releases.dispatch(str(trace), "rel")
    with worker(manager):
        wait_until(lambda: manager.failed.all(), timeout=30)
    runs = [line for line in lines(trace) if "attempt=" in line]
    assert [line.split()[1] for line in runs] == ["attempt=1", "attempt=2", "attempt=3"]
    assert lines(trace)[-1] == "rel failed=MaxAttemptsExceededError fresh=True"
    assert MaxAttemptsExceededError.__name__ in failed_rows(manager)[0]


def test_tries_zero_is_unlimited(manager: QueueManager, trace: Path) -> None:
    jobs.Unlimited.dispatch(str(trace), 7)
    with worker(manager):
        wait_until(lambda: len(lines(trace)) == 7, timeout=40)
    assert manager.failed.all() == []


def test_retry_until_wins_over_tries(manager: QueueManager, trace: Path) -> None:
    jobs.Deadline.dispatch(str(trace), 2.0)
    with worker(manager):
        wait_until(lambda: manager.failed.all(), timeout=30)
    runs = [line for line in lines(trace) if "attempt=" in line]
    assert len(runs) > 1  # tries = 1 would have stopped after one
    # It fails either on the run that ends past the deadline or on the next pop.
    assert lines(trace)[-1] in {
        "deadline failed=RuntimeError fresh=True",
        "deadline failed=MaxAttemptsExceededError fresh=True",
    }


def test_max_exceptions_counts_only_unhandled_exceptions(
    manager: QueueManager, trace: Path
) -> None:
    jobs.MaxExceptions.dispatch(str(trace), "mx")
    with worker(manager):
        wait_until(lambda: manager.failed.all(), timeout=30)
    runs = [line for line in lines(trace) if "attempt=" in line]
    # attempts 1 and 3 release (not counted), 2 and 4 raise: the second exception fails it.
    assert [line.split()[1] for line in runs] == [f"attempt={n}" for n in (1, 2, 3, 4)]
    assert "RuntimeError: counted" in failed_rows(manager)[0]


def test_backoff_is_indexed_by_attempt_then_repeats_the_last(
    manager: QueueManager, trace: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    jobs.BackoffRecorder.dispatch(str(trace), "b")
    with worker(manager):
        wait_until(lambda: manager.failed.all(), timeout=40)
    # backoff [1, 2]: 1 s after attempt 1, then 2 s, then the last value again (the log)
    assert re.findall(r"released for (\d+)s", capfd.readouterr().err) == ["1", "2", "2"]
    times = [float(line[3:]) for line in lines(trace) if line.startswith("at=")]
    gaps = [b - a for a, b in pairwise(times)]
    # The mover polls twice a second and a busy machine adds more (0.97 s seen in CI on
    # SQLite): a release is back within about a second and a half of being due.
    assert len(gaps) == 3
    assert all(want <= gap < want + 1.5 for gap, want in zip(gaps, [1, 2, 2], strict=True)), gaps


def test_fail_records_the_job_and_handle_still_returns(manager: QueueManager, trace: Path) -> None:
    jobs.ManualFail.dispatch(str(trace), "manual")
    with worker(manager):
        wait_until(lambda: manager.failed.all())
        wait_until(lambda: "handle went on after fail()" in lines(trace))
    assert "ManuallyFailedError: gave up" in failed_rows(manager)[0]


def test_a_deleted_job_is_neither_retried_nor_failed(manager: QueueManager, trace: Path) -> None:
    jobs.Deletes.dispatch(str(trace), "del")
    jobs.Traced.dispatch(str(trace), "after")
    with worker(manager):
        wait_until(lambda: any(line.startswith("after") for line in lines(trace)))
    assert [line.split()[0] for line in lines(trace)] == ["del", "after"]
    assert manager.failed.all() == []


def test_middleware_wraps_handle_and_short_circuit_is_a_success(
    manager: QueueManager, trace: Path
) -> None:
    jobs.WithMiddleware.dispatch(str(trace))
    jobs.WithMiddleware.dispatch(str(trace), stop=True)
    with worker(manager):
        wait_until(lambda: len(lines(trace)) == 9)
    first = lines(trace)[:5]
    assert first[:2] + first[3:] == ["before outer", "before inner", "after inner", "after outer"]
    assert first[2].startswith("mw attempt=1")
    assert lines(trace)[5:] == ["before outer", "before inner", "after inner", "after outer"]
    assert manager.failed.all() == []


def test_events_fire_in_laravels_order(redis_manager: QueueManager, trace: Path) -> None:
    """On the last attempt JobFailed precedes JobExceptionOccurred (semantics §0.3)."""
    from laravel_queue import Queue, events

    seen: list[str] = []
    kinds = (
        events.JobProcessing,
        events.JobProcessed,
        events.JobExceptionOccurred,
        events.JobReleasedAfterException,
        events.JobFailed,
        events.JobAttempted,
    )
    for kind in kinds:
        Queue.listen(kind, lambda event: seen.append(type(event).__name__))
    try:
        jobs.AlwaysFails.dispatch(str(trace))
        with worker(redis_manager):
            wait_until(lambda: redis_manager.failed.all(), timeout=30)
            wait_until(lambda: seen.count("JobAttempted") == 2)
    finally:
        for kind in kinds:
            events.listeners.forget(kind)
    assert seen == [
        "JobProcessing",
        "JobExceptionOccurred",
        "JobReleasedAfterException",
        "JobAttempted",
        "JobProcessing",
        "JobFailed",
        "JobExceptionOccurred",
        "JobAttempted",
    ]


def test_a_listener_that_raises_breaks_nothing(redis_manager: QueueManager, trace: Path) -> None:
    from laravel_queue import Queue, events

    def explode(event: object) -> None:
        raise RuntimeError("listener bug")

    Queue.before(explode)
    try:
        jobs.Traced.dispatch(str(trace))
        with worker(redis_manager):
            wait_until(lambda: lines(trace))
    finally:
        events.listeners.forget(events.JobProcessing)
    assert redis_manager.failed.all() == []

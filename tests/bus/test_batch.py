"""Batches (Laravel's Bus::batch), on every broker: counters, each callback rule, chains in a
batch, adding from a batched job, cancelling, and a retried failure letting `then` fire."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from laravel_queue import Bus, QueueManager

from .. import jobs
from ..support import lines, wait_until, worker


def every_callback(batch: object) -> object:
    return (
        batch.before(jobs.batch_before)  # type: ignore[attr-defined]
        .then(jobs.batch_then)
        .catch(jobs.batch_catch)
        .finally_(jobs.batch_finally)
        .progress(jobs.batch_progress)
    )


def test_a_batch_that_succeeds_calls_then_and_finally_once_and_progress_per_job(
    manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    t = str(trace)
    pending = every_callback(Bus.batch([jobs.Traced(t, n) for n in "abc"]).name("import"))
    batch = pending.dispatch()  # type: ignore[attr-defined]
    assert (batch.total_jobs, batch.pending_jobs, batch.name) == (3, 3, "import")
    assert lines(callback_trace) == ["before import total=0"]  # before runs before jobs count in
    with worker(manager):
        wait_until(lambda: "finally" in " ".join(lines(callback_trace)), timeout=30)
    assert sorted(lines(trace)[i].split()[0] for i in range(3)) == ["a", "b", "c"]
    assert lines(callback_trace)[1:] == [
        "progress import",
        "progress import",
        "progress import",
        "then import pending=0 failed=0",
        "finally import pending=0 failed=0",
    ]
    done = batch.fresh()
    assert (done.pending_jobs, done.processed_jobs(), done.progress()) == (0, 3, 100)
    assert done.finished() and not done.cancelled() and not done.has_failures()


def test_the_first_failure_cancels_the_batch_calls_catch_and_then_never_fires(
    manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    t = str(trace)
    items = [jobs.Traced(t, "a"), jobs.AlwaysFails(t, "fails"), jobs.Traced(t, "c")]
    batch = every_callback(Bus.batch(items).name("b")).dispatch()  # type: ignore[attr-defined]
    with worker(manager):
        wait_until(lambda: "finally" in " ".join(lines(callback_trace)), timeout=30)
    calls = lines(callback_trace)
    assert "catch b ValueError" in calls and calls.count("catch b ValueError") == 1
    assert not [line for line in calls if line.startswith("then")]
    assert calls[-1] == "finally b pending=1 failed=1", calls
    done = batch.fresh()
    assert done.cancelled() and done.finished() and done.has_failures()
    assert done.failed_job_ids == [row.uuid for row in manager.failed.all()]


def test_allow_failures_keeps_the_batch_going(
    sqlite_manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    t = str(trace)
    items = [jobs.AlwaysFails(t, "fails"), jobs.Traced(t, "b")]
    pending = every_callback(Bus.batch(items).name("x")).allow_failures()  # type: ignore[attr-defined]
    batch = pending.dispatch()
    with worker(sqlite_manager):
        wait_until(lambda: "finally" in " ".join(lines(callback_trace)), timeout=30)
    done = batch.fresh()
    assert not done.cancelled() and done.has_failures() and not done.finished()
    assert not [line for line in lines(callback_trace) if line.startswith("then")]


def test_retrying_the_failed_job_lets_then_fire(
    manager: QueueManager, trace: Path, callback_trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "bug"
    flag.touch()
    t = str(trace)
    items = [jobs.FailsWhileFlagged(t, str(flag)), jobs.Traced(t, "ok")]
    batch = Bus.batch(items).allow_failures().then(jobs.batch_then).dispatch()
    with worker(manager):
        wait_until(lambda: manager.failed.count() == 1 and "ok" in lines(trace)[-1], timeout=30)
        assert batch.fresh().failed_jobs == 1
        flag.unlink()
        assert manager.failed.retry().retried == 1
        wait_until(lambda: lines(callback_trace), timeout=30)
    assert lines(callback_trace) == ["then  pending=0 failed=1"]  # Laravel keeps the failed count
    assert batch.fresh().failed_job_ids == []


def test_a_list_in_a_batch_is_a_chain_and_all_its_jobs_count(
    manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    t = str(trace)
    chain = [jobs.Traced(t, "first"), jobs.Traced(t, "second")]
    batch = Bus.batch([chain, jobs.Traced(t, "alone")]).then(jobs.batch_then).dispatch()
    assert batch.total_jobs == 3
    with worker(manager):
        wait_until(lambda: lines(callback_trace), timeout=30)
    runs = [line.split()[0] for line in lines(trace)]
    assert runs.index("first") < runs.index("second") and "alone" in runs
    assert lines(callback_trace) == ["then  pending=0 failed=0"]


def test_a_batched_job_can_add_to_its_batch(
    sqlite_manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    batch = Bus.batch([jobs.AddsToItsBatch(str(trace), "adds")]).then(jobs.batch_then).dispatch()
    with worker(sqlite_manager):
        wait_until(lambda: lines(callback_trace), timeout=30)
    assert [line.split()[0] for line in lines(trace)] == ["adds", "added"]
    assert batch.fresh().total_jobs == 2


def test_jobs_of_a_cancelled_batch_skip_with_skip_if_batch_cancelled(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    batch = Bus.batch([jobs.SkipsWhenCancelled(str(trace), n) for n in "ab"]).dispatch()
    batch.cancel()
    with worker(sqlite_manager):
        wait_until(lambda: batch.fresh().pending_jobs == 0, timeout=30)
    assert lines(trace) == []  # skipped: counted as processed, never run
    assert Bus.find_batch(batch.id) == batch.fresh()


def test_batched_messages_carry_celery_s_group_fields(
    sqlite_manager: QueueManager, lq_home: Path
) -> None:
    batch = Bus.batch([jobs.NoSettings("x"), jobs.NoSettings("y")]).dispatch()
    with sqlite3.connect(lq_home / "laravel_queue.sqlite") as db:
        payloads = [json.loads(row[0]) for row in db.execute("SELECT payload FROM kombu_message")]
    groups = [(p["headers"]["group"], p["headers"]["group_index"]) for p in payloads]
    assert sorted(groups) == [(batch.id, 0), (batch.id, 1)]


@pytest.mark.parametrize(
    ("callback", "says"),
    [(lambda batch: None, "a lambda cannot be sent"), (jobs.not_a_callback, "@callback")],
)
def test_a_callback_that_cannot_travel_is_refused_when_the_batch_is_built(
    sqlite_manager: QueueManager, callback: object, says: str
) -> None:
    with pytest.raises(TypeError, match=says):
        Bus.batch([jobs.NoSettings("x")]).then(callback)


def test_a_batch_inside_a_chain_runs_after_the_job_before_and_before_the_job_after(
    manager: QueueManager, trace: Path
) -> None:
    t = str(trace)
    step = Bus.batch([jobs.Traced(t, "b1"), jobs.Traced(t, "b2")]).name("step")
    Bus.chain([jobs.Traced(t, "a"), step, jobs.Traced(t, "c")]).dispatch()
    with worker(manager):
        wait_until(lambda: "c" in runs(trace), timeout=30)
    order = runs(trace)
    assert order[0] == "a" and sorted(order[1:3]) == ["b1", "b2"] and order[3] == "c"


def test_a_failed_batch_stops_its_chain_and_runs_the_chain_s_catch_once(
    sqlite_manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    t = str(trace)
    step = Bus.batch([jobs.AlwaysFails(t, "fails"), jobs.Traced(t, "b")])
    first = Bus.chain([step, jobs.Traced(t, "after")]).catch(jobs.note_chain_failure).dispatch()
    assert Bus.find_batch(str(first)) is not None  # a chain that starts with a batch
    with worker(sqlite_manager):
        wait_until(lambda: lines(callback_trace), timeout=30)
        wait_until(lambda: Bus.find_batch(str(first)).pending_jobs == 1, timeout=30)  # type: ignore[union-attr]
    assert lines(callback_trace) == ["catch ValueError: always fails"]
    assert "after" not in runs(trace)


def test_with_allow_failures_the_chain_goes_on_after_its_batch(
    sqlite_manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    t = str(trace)
    step = Bus.batch([jobs.AlwaysFails(t, "fails")]).allow_failures()
    Bus.chain([step, jobs.Traced(t, "after")]).catch(jobs.note_chain_failure).dispatch()
    with worker(sqlite_manager):
        wait_until(lambda: "after" in runs(trace), timeout=30)
    assert lines(callback_trace) == []  # the chain's catch is not run when failures are allowed


def runs(trace: Path) -> list[str]:
    return [line.split()[0] for line in lines(trace)]

"""The events around the jobs: pausing, batches, the listener registry's rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from laravel_queue import Bus, Queue, QueueManager, events
from laravel_queue.events import signals

from .. import jobs
from ..support import wait_until, worker


@pytest.fixture
def heard() -> Iterator[list[object]]:
    """Every event of the classes below, in order."""
    seen: list[object] = []
    classes = (
        events.QueuePaused,
        events.QueueResumed,
        events.BatchDispatched,
        events.BatchCanceled,
        events.BatchStarted,
        events.BatchFinished,
        events.JobQueueing,
        events.JobQueued,
        events.UniqueJobSkipped,
    )
    for cls in classes:
        Queue.listen(cls, seen.append)
    yield seen
    for cls in classes:
        events.listeners.forget(cls, seen.append)


def batch_events(heard: list[object]) -> list[object]:
    return [e for e in heard if type(e).__name__.startswith("Batch")]


def test_pausing_and_resuming_fire_queue_paused_and_queue_resumed(
    sqlite_manager: QueueManager, heard: list[object]
) -> None:
    name = sqlite_manager.connection().name
    Queue.pause("podcasts", ttl=60)
    assert Queue.is_paused("podcasts") and not Queue.is_paused("default")
    Queue.resume("podcasts")
    assert not Queue.is_paused("podcasts")
    assert heard == [
        events.QueuePaused(name, "podcasts", 60.0),
        events.QueueResumed(name, "podcasts"),
    ]


def test_a_batch_fires_dispatched_then_finished_once_its_jobs_ran(
    sqlite_manager: QueueManager, trace: Path, heard: list[object]
) -> None:
    batch = Bus.batch([jobs.Traced(str(trace), n) for n in "ab"]).dispatch()
    assert [type(e) for e in batch_events(heard)] == [events.BatchDispatched]
    dispatched = batch_events(heard)[0]
    assert dispatched.batch.id == batch.id and dispatched.batch.total_jobs == 2  # type: ignore[attr-defined]
    with worker(sqlite_manager):
        wait_until(lambda: len(batch_events(heard)) == 3, timeout=30)
    started, finished = batch_events(heard)[1:]
    assert isinstance(started, events.BatchStarted)  # Laravel 13: once its first job ended
    assert isinstance(finished, events.BatchFinished)
    assert (finished.batch.id, finished.batch.pending_jobs) == (batch.id, 0)


def test_cancelling_a_batch_fires_batch_canceled_once(
    sqlite_manager: QueueManager, trace: Path, heard: list[object]
) -> None:
    batch = Bus.batch([jobs.Traced(str(trace), "a")]).dispatch()
    batch.cancel()
    batch.cancel()  # already cancelled: nothing more
    canceled = [e for e in heard if isinstance(e, events.BatchCanceled)]
    assert len(canceled) == 1 and canceled[0].batch.cancelled()


def test_the_first_failure_of_a_batch_cancels_it_and_fires_batch_canceled(
    sqlite_manager: QueueManager, trace: Path, heard: list[object]
) -> None:
    Bus.batch([jobs.AlwaysFails(str(trace), "x")]).dispatch()
    with worker(sqlite_manager):
        wait_until(lambda: any(isinstance(e, events.BatchFinished) for e in heard), timeout=30)
    kinds = [type(e) for e in batch_events(heard)]
    assert kinds == [
        events.BatchDispatched,
        events.BatchCanceled,
        events.BatchStarted,
        events.BatchFinished,
    ]


def test_job_queueing_comes_before_job_queued_and_a_held_unique_job_is_skipped(
    sqlite_manager: QueueManager, trace: Path, heard: list[object]
) -> None:
    first = jobs.SyncsAccount.dispatch(str(trace), "first", 7)
    assert jobs.SyncsAccount.dispatch(str(trace), "second", 7) is None
    Queue.bulk([jobs.Traced(str(trace), "bulk")])
    kinds = [(type(e).__name__, getattr(e, "id", None)) for e in heard]
    bulk_id = kinds[-1][1]
    assert kinds == [
        ("JobQueueing", first),
        ("JobQueued", first),
        ("UniqueJobSkipped", None),
        ("JobQueueing", bulk_id),
        ("JobQueued", bulk_id),
    ]
    skipped = heard[2]
    assert isinstance(skipped, events.UniqueJobSkipped) and skipped.job.name == "second"  # type: ignore[attr-defined]


def test_until_answers_with_the_first_listener_that_says_something_and_ignores_raisers() -> None:
    def raises(_: events.Looping) -> bool:
        raise RuntimeError("broken listener")

    answers = [raises, lambda _: None, lambda _: False, lambda _: True]
    for listener in answers:
        Queue.looping(listener)
    try:
        assert events.dispatch(events.Looping("redis", "default")) is False
    finally:
        events.listeners.forget(events.Looping)
    assert events.dispatch(events.Looping("redis", "default")) is None


def test_the_new_events_are_signals_too(sqlite_manager: QueueManager) -> None:
    received: list[Any] = []

    def receiver(sender: type, event: events.QueuePaused, **_: Any) -> None:
        received.append(event.queue)

    signals.queue_paused.connect(receiver)
    try:
        Queue.pause("imports")
    finally:
        signals.queue_paused.disconnect(receiver)
    assert received == ["imports"]
    assert {signals.looping, signals.queue_busy, signals.batch_finished} <= set(
        signals.by_event.values()
    )


def test_job_processed_carries_how_long_the_run_took(sqlite_manager: QueueManager) -> None:
    seen: list[events.JobProcessed] = []
    Queue.listen(events.JobProcessed, seen.append)
    try:
        jobs.SleepsFor(0.2).dispatch_sync()
    finally:
        events.listeners.forget(events.JobProcessed, seen.append)
    (event,) = seen
    assert 0.2 <= event.duration < 1.0

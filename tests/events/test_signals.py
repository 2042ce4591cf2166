"""Each event is also a Celery-style signal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from laravel_queue import QueueManager, events
from laravel_queue.events import signals

from .. import jobs


def test_a_signal_receiver_gets_the_event(sqlite_manager: QueueManager, trace: Path) -> None:
    received: list[Any] = []

    def receiver(sender: type, event: events.JobQueued, **_: Any) -> None:
        received.append((sender, event.id))

    signals.job_queued.connect(receiver)
    try:
        job_id = jobs.Traced.dispatch(str(trace), "signalled")
    finally:
        signals.job_queued.disconnect(receiver)
    assert received == [(events.JobQueued, job_id)]

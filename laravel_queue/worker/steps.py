"""A consumer bootstep that runs a function on the consumer's timer, in the main process."""

from __future__ import annotations

from typing import Any

from celery import bootsteps


class RepeatingStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Calls `tick(consumer)` every `interval(consumer)` seconds while the consumer runs."""

    requires = ("celery.worker.consumer.tasks:Tasks",)
    timer_priority = 5  # among the consumer timer's entries

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def interval(self, c: Any) -> float:
        raise NotImplementedError

    def tick(self, c: Any) -> object:
        raise NotImplementedError

    def start(self, c: Any) -> None:
        self.tref = c.timer.call_repeatedly(
            self.interval(c), self.tick, (c,), priority=self.timer_priority
        )

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

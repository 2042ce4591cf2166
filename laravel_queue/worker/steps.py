"""A consumer bootstep that runs a function on the consumer's timer, in the main process, and
how such a step says that a server it needs is down."""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps

from laravel_queue.exceptions import describe

logger = logging.getLogger("laravel_queue.worker")


class Outage:
    """The log of a step that runs every few seconds against a server that may be down: one
    line when it starts failing, one when it works again, tracebacks at DEBUG only (a worker
    left running through an outage logged one traceback per step per tick)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.failing = False

    def failed(self, exc: BaseException) -> None:
        if not self.failing:
            logger.warning("%s failed: %s; will retry", self.what, describe(exc))
            self.failing = True
        logger.debug("%s failed", self.what, exc_info=exc)

    def succeeded(self) -> None:
        if self.failing:
            logger.info("%s works again", self.what)
            self.failing = False


class RepeatingStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Calls `tick(consumer)` every `interval(consumer)` seconds while the consumer runs.

    A tick that raises (its store or broker is down) is said once by the step's `Outage`,
    named by `doing`, and tried again at the next tick."""

    requires = ("celery.worker.consumer.tasks:Tasks",)
    timer_priority = 5  # among the consumer timer's entries
    doing = "a periodic step of the worker"  # what the log says failed

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None
        self.outage = Outage(self.doing)

    def interval(self, c: Any) -> float:
        raise NotImplementedError

    def tick(self, c: Any) -> object:
        raise NotImplementedError

    def start(self, c: Any) -> None:
        self.tref = c.timer.call_repeatedly(
            self.interval(c), self.run_tick, (c,), priority=self.timer_priority
        )

    def run_tick(self, c: Any) -> None:
        """One `tick`, its failure logged (once per outage) instead of raised."""
        try:
            self.tick(c)
        except Exception as exc:
            self.outage.failed(exc)
        else:
            self.outage.succeeded()

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

"""Bootstep: move failures spooled while the database was down into `failed_jobs`.

Runs in the worker's main process on the consumer's timer. The check is a `stat` of the
spool file, so it costs nothing while the database is healthy; pool children append to the
same file under a lock (`db.spool`).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps

logger = logging.getLogger("laravel_queue.worker")

CHECK_EVERY_SECONDS = 2.0


class SpoolDrainer(bootsteps.StartStopStep):  # type: ignore[misc]
    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def start(self, c: Any) -> None:
        self.tref = c.timer.call_repeatedly(CHECK_EVERY_SECONDS, drain, (c,), priority=9)

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None


def drain(c: Any) -> int:
    from ..manager import manager_for_app

    try:
        moved = manager_for_app(c.app).failed.drain_spool()
    except Exception:
        logger.exception("moving spooled failures into failed_jobs failed; will retry")
        return 0
    if moved:
        logger.info("moved %d spooled failures into failed_jobs", moved)
    return moved

"""Bootstep: move failures spooled while the database was down into `failed_jobs`, and count
the batch outcomes spooled meanwhile.

Runs in the worker's main process on the consumer's timer. The check is a `stat` of the
spool file, so it costs nothing while the database is healthy; pool children append to the
same file under a lock (`db.spool`).
"""

from __future__ import annotations

import logging
from typing import Any

from laravel_queue.bus.batch_outcomes import drain_spooled_counts
from laravel_queue.manager import manager_for_app
from laravel_queue.worker.steps import RepeatingStep

logger = logging.getLogger("laravel_queue.worker")

CHECK_EVERY_SECONDS = 2.0


class SpoolDrainer(RepeatingStep):
    timer_priority = 9
    doing = "draining the spools"

    def interval(self, c: Any) -> float:
        return CHECK_EVERY_SECONDS

    def tick(self, c: Any) -> int:
        return drain(c)


def drain(c: Any) -> int:
    manager = manager_for_app(c.app)
    moved = 0
    try:
        moved += manager.failed.drain_spool()  # logs what it moved
    except Exception as exc:  # the database is still down: the failures stay spooled
        logger.debug("spooled failures not written yet: %r", exc)
    try:
        moved += drain_spooled_counts(manager)
    except Exception as exc:  # the database is still down: the counts stay spooled
        logger.debug("spooled batch counts not counted yet: %r", exc)
    return moved

"""Bootstep: delete expired rows of a SQL cache store every minute.

Redis drops an expired key by itself; the `lq_cache` table keeps a row until it is deleted,
and every tracked job (its status) and every `on_one_server()` due time (its claim) leaves
one: an every-second scheduled event alone adds 86,400 rows a day. Laravel's database cache
store prunes its expired locks by lottery; a worker's timer, once a minute, is steadier.
"""

from __future__ import annotations

import logging
from typing import Any

from laravel_queue.manager import manager_for_app
from laravel_queue.worker.steps import RepeatingStep

logger = logging.getLogger("laravel_queue.worker")

PURGE_EVERY_SECONDS = 60.0


class CachePurge(RepeatingStep):
    timer_priority = 10
    doing = "deleting expired cache rows"

    def interval(self, c: Any) -> float:
        return PURGE_EVERY_SECONDS

    def tick(self, c: Any) -> int:
        purged = manager_for_app(c.app).cache.purge_expired()
        if purged:
            logger.debug("deleted %d expired cache rows", purged)
        return purged

"""Pause flags and the restart signal, kept in the cache store every worker shares.

Laravel keeps `illuminate:queue:paused:{connection}:{queue}` and `illuminate:queue:restart`
in its cache, and each worker reads them on every loop ("interruption polling"). Here the
keys are `queue:paused:{connection}:{queue}` and `queue:restart` under the store's prefix,
and a worker reads both in one call (`snapshot`) on a short timer, so pausing or restarting
reaches workers on every host, including ones that are busy or started later — Celery's
broadcast commands reach only the workers listening at that moment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from laravel_queue.cache.base import CacheStore

PREFIX = "queue:"
PAUSED = "queue:paused:"
RESTART = "queue:restart"


@dataclass(frozen=True)
class Snapshot:
    """What a worker reads per poll: the paused queues and the last restart request."""

    paused: frozenset[tuple[str, str]]  # (connection, queue)
    restart_requested_at: float | None

    def is_paused(self, connection: str, queue: str) -> bool:
        return (connection, queue) in self.paused


@dataclass(frozen=True)
class Interruptions:
    cache: CacheStore

    def pause(self, connection: str, queue: str, ttl: float | None = None) -> None:
        """Workers stop taking jobs from the queue until `resume` (or for `ttl` seconds)."""
        self.cache.put(f"{PAUSED}{connection}:{queue}", str(time.time()), ttl=ttl)

    def resume(self, connection: str, queue: str) -> None:
        self.cache.forget(f"{PAUSED}{connection}:{queue}")

    def is_paused(self, connection: str, queue: str) -> bool:
        return self.cache.get(f"{PAUSED}{connection}:{queue}") is not None

    def request_restart(self) -> float:
        """Every worker exits after its current job (Laravel: queue:restart); returns the
        timestamp workers compare with the one they saw when they started."""
        now = time.time()
        self.cache.put(RESTART, repr(now))
        return now

    def snapshot(self) -> Snapshot:
        values = self.cache.starting_with(PREFIX)
        paused = frozenset(
            (connection, queue)
            for name in values
            if name.startswith(PAUSED)
            for connection, _, queue in [name.removeprefix(PAUSED).rpartition(":")]
        )
        restart = values.get(RESTART)
        return Snapshot(paused, float(restart) if restart is not None else None)

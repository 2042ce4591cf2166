"""Pause flags and the restart signal, kept in the cache store every worker shares.

Laravel keeps `illuminate:queue:paused:{connection}:{queue}` and `illuminate:queue:restart`
in its cache, and each worker reads them on every loop ("interruption polling"). Here they
are the fields `paused:{connection}:{queue}` and `restart` of one hash, `queue:control`
under the store's prefix, and a worker reads the whole hash in one call (`snapshot`) on a
short timer, so pausing or restarting reaches workers on every host, including ones that are
busy or started later — Celery's broadcast commands reach only the workers listening at that
moment. One hash, not keys found by their prefix: finding keys scans the whole store, which
holds a status per job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from laravel_queue.cache.base import CacheStore

CONTROL = "queue:control"
PAUSED = "paused:"
RESTART = "restart"


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
        until = "" if ttl is None else repr(time.time() + ttl)
        self.cache.put_field(CONTROL, f"{PAUSED}{connection}:{queue}", until)

    def resume(self, connection: str, queue: str) -> None:
        self.cache.forget_field(CONTROL, f"{PAUSED}{connection}:{queue}")

    def is_paused(self, connection: str, queue: str) -> bool:
        return self.snapshot().is_paused(connection, queue)

    def request_restart(self) -> float:
        """Every worker exits after its current job (Laravel: queue:restart); returns the
        timestamp workers compare with the one they saw when they started."""
        now = time.time()
        self.cache.put_field(CONTROL, RESTART, repr(now))
        return now

    def snapshot(self) -> Snapshot:
        values = self.cache.fields(CONTROL)
        now = time.time()
        paused = frozenset(
            (connection, queue)
            for name, until in values.items()
            if name.startswith(PAUSED) and _still_paused(until, now)
            for connection, _, queue in [name.removeprefix(PAUSED).rpartition(":")]
        )
        restart = values.get(RESTART)
        return Snapshot(paused, float(restart) if restart is not None else None)


def _still_paused(until: str, now: float) -> bool:
    """A pause with a `ttl` holds until the time it stores ("" is until resumed)."""
    try:
        return not until or float(until) > now
    except ValueError:  # not written by `pause`: paused, as the key's presence meant before
        return True

"""The queues as an operator sees them: which ones there are and how full each is, read live
from the broker and the cache store at each look (what `lq metrics:serve` exports and the
dashboard shows). Nothing is kept here.

A queue is known when a job of it was counted in the metrics, a worker listens to it, it is
paused, or the caller names it: brokers cannot list their queues alike (Redis has no queue
without a message, RabbitMQ needs its management API).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from laravel_queue.connections.base import Connection
from laravel_queue.connections.pausing import Interruptions
from laravel_queue.manager import QueueManager
from laravel_queue.metrics.series import Series
from laravel_queue.worker.heartbeat import WorkerRegistry, WorkerStatus

logger = logging.getLogger("laravel_queue")

SIZES = ("pending_jobs", "delayed_jobs", "reserved_jobs", "oldest_pending_age_seconds")


@dataclass(frozen=True)
class QueueView:
    """One queue: its sizes where the broker tells them (None where it cannot, as RabbitMQ
    cannot count reserved jobs), how long its oldest pending job has waited, whether it is
    paused."""

    connection: str
    queue: str
    pending: int | None
    delayed: int | None
    reserved: int | None
    oldest_wait: float | None
    paused: bool
    on_default_connection: bool

    @property
    def address(self) -> str:
        """`queue` on the default connection, else `connection:queue`."""
        return self.queue if self.on_default_connection else f"{self.connection}:{self.queue}"


def known_queues(
    manager: QueueManager,
    series: Iterable[Series] = (),
    extra: Iterable[str] = (),
    workers: Iterable[WorkerStatus] | None = None,
    paused: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """(connection, queue) of every known queue, sorted; `extra` names more (`queue` or
    `connection:queue`), `workers` are the heartbeats when the caller has read them."""
    default = manager.connection().name
    known = {(s.connection, s.queue) for s in series}
    known.add((default, manager.default_queue))
    listening = WorkerRegistry(manager.cache).all() if workers is None else workers
    for worker in listening:
        known.update((default, queue) for queue in worker.queues)
    for target in extra:
        connection, _, queue = target.rpartition(":")
        known.add((connection or default, queue))
    known.update(paused)
    return sorted(known)


def queue_sizes(connection: Connection, queue: str) -> dict[str, float]:
    """The queue's sizes that the broker can tell: one it cannot (RabbitMQ's reserved jobs,
    the age of its oldest message) is left out rather than fail the whole look."""
    readings: dict[str, Callable[[str], float | None]] = {
        "pending_jobs": connection.pending_size,
        "delayed_jobs": connection.delayed_size,
        "reserved_jobs": connection.reserved_size,
        "oldest_pending_age_seconds": connection.oldest_pending_at,
    }
    found: dict[str, float] = {}
    for name, read in readings.items():
        try:
            value = read(queue)
        except Exception as exc:
            logger.debug("no %s for %s:%s: %r", name, connection.name, queue, exc)
            continue
        if name == "oldest_pending_age_seconds":  # 0 for a queue with nothing waiting
            value = 0.0 if found.get("pending_jobs") == 0 else _age(value)
        if value is not None:
            found[name] = value
    return found


def _age(pushed_at: float | None) -> float | None:
    return None if pushed_at is None else max(0.0, time.time() - pushed_at)


def queue_views(
    manager: QueueManager,
    series: Iterable[Series] = (),
    workers: Iterable[WorkerStatus] | None = None,
) -> list[QueueView]:
    """Every known queue with its sizes and pause, in (connection, queue) order."""
    snapshot = Interruptions(manager.cache).snapshot()
    default = manager.connection().name
    views = []
    for name, queue in known_queues(manager, series, workers=workers, paused=snapshot.paused):
        sizes = queue_sizes(manager.connection(name), queue)

        def count(key: str, sizes: dict[str, float] = sizes) -> int | None:
            value = sizes.get(key)
            return None if value is None else int(value)

        views.append(
            QueueView(
                connection=name,
                queue=queue,
                pending=count("pending_jobs"),
                delayed=count("delayed_jobs"),
                reserved=count("reserved_jobs"),
                oldest_wait=sizes.get("oldest_pending_age_seconds"),
                paused=snapshot.is_paused(name, queue),
                on_default_connection=name == default,
            )
        )
    return views

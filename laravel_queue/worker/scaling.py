"""Growing or shrinking a running worker's pool through Celery's remote control (Horizon
scales its supervisors' processes; here `lq workers:scale` and the dashboard's ± buttons)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from laravel_queue.connections.base import Connection
from laravel_queue.connections.celery import CeleryConnection
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.manager import QueueManager
from laravel_queue.urls import is_sql_broker
from laravel_queue.worker.heartbeat import WorkerRegistry, WorkerStatus

REPLY_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Scaled:
    """One worker's pool size before and after."""

    name: str
    before: int
    after: int

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "from": self.before, "to": self.after}


def scale_workers(manager: QueueManager, processes: int, names: Iterable[str] = ()) -> list[Scaled]:
    """Each healthy worker (or each one named) grown or shrunk to `processes` processes;
    `ConfigurationError` naming what to fix when it cannot be done."""
    if processes < 1:
        raise ConfigurationError("a worker needs at least 1 process")
    connection = manager.connection()
    reason = why_not_scalable(connection)
    if reason is not None or not isinstance(connection, CeleryConnection):
        raise ConfigurationError(reason)
    wanted = set(names)
    healthy = [s for s in WorkerRegistry(manager.cache).all() if s.healthy()]
    targets = [s for s in healthy if not wanted or s.name in wanted]
    missing = wanted - {s.name for s in targets}
    if missing:
        raise ConfigurationError(f"no healthy worker named {', '.join(sorted(missing))}")
    return [_scale(connection, status, processes) for status in targets]


def why_not_scalable(connection: Connection) -> str | None:
    """None when the connection's workers can be scaled, else why not."""
    if not isinstance(connection, CeleryConnection):
        return f"connection '{connection.name}' has no workers to scale"
    if is_sql_broker(connection.url):
        return (
            "workers:scale needs Celery's remote control, which the SQL broker does not carry; "
            "restart the worker with --concurrency N instead"
        )
    return None


def _scale(connection: CeleryConnection, status: WorkerStatus, processes: int) -> Scaled:
    delta = processes - status.concurrency
    if delta:
        control = connection.app.control
        command = control.pool_grow if delta > 0 else control.pool_shrink
        replies = command(
            abs(delta), destination=[status.name], reply=True, timeout=REPLY_TIMEOUT_SECONDS
        )
        if not replies:
            raise ConfigurationError(
                f"{status.name} did not answer the scale request within "
                f"{REPLY_TIMEOUT_SECONDS:g}s (is its remote control enabled?)"
            )
        for reply in replies:
            for answer in reply.values():
                if "error" in answer:
                    raise ConfigurationError(f"{status.name}: {answer['error']}")
    return Scaled(status.name, status.concurrency, processes)

"""What the bus needs of the manager above it (`QueueManager`), named here as protocols so
the bus knows no class above it (Laravel resolves the same services from its container).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from laravel_queue.cache.base import CacheStore
from laravel_queue.connections.base import Connection
from laravel_queue.connections.routing import QueueRoutes
from laravel_queue.failed.store import FailedJobs
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.messages.batch_record import BatchRecord

if TYPE_CHECKING:  # the SQL driver loads on first use, not with the bus
    from laravel_queue.bus.batch_repository import BatchRepository


class BatchDraft(Protocol):
    """What a recorder sees of a batch being dispatched (`bus.batch.PendingBatch`)."""

    @property
    def batch_name(self) -> str: ...

    @property
    def jobs(self) -> list[Queueable]: ...

    @property
    def options(self) -> dict[str, Any]: ...

    def allows_failures(self) -> bool: ...


class DispatchRecorder(Protocol):
    """Takes dispatches, chains included, and batches instead of sending them (`Bus.fake()`)."""

    def takes(self, job: Queueable) -> bool: ...

    def record_dispatch(self, job: Queueable, job_id: str) -> None: ...

    def record_batch(self, pending: BatchDraft) -> BatchRecord:
        """The batch as it would have been stored; nothing is."""
        ...


class BusHost(Protocol):
    """The manager, as the dispatcher, chains and batches use it."""

    @property
    def default_queue(self) -> str: ...

    @property
    def store_timeout(self) -> float: ...

    @property
    def cache(self) -> CacheStore: ...

    @property
    def batches(self) -> BatchRepository: ...

    @property
    def failed(self) -> FailedJobs: ...

    @property
    def batch_spool(self) -> Path: ...

    @property
    def dispatch_recorder(self) -> DispatchRecorder | None: ...

    @property
    def routes(self) -> QueueRoutes: ...

    def connection(self, name: str | None = None) -> Connection: ...

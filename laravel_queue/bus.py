"""Laravel's Bus facade, on the current manager: `Bus.dispatch(job)`, `Bus.dispatch_sync(job)`
(what `Job.dispatch` and `Job.dispatch_sync` call), `Bus.chain([...])`, `Bus.batch([...])`
and `Bus.find_batch(id)`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .batches import Batch, BatchItem, PendingBatch
from .chain import ChainItem, PendingChain
from .dispatcher import Dispatcher
from .manager import current_manager
from .testing.bus_fake import BusFake

if TYPE_CHECKING:
    from .job import Job


class Bus:
    """Laravel's Bus facade (`Illuminate\\Support\\Facades\\Bus`)."""

    @staticmethod
    def fake(jobs: Iterable[type[Job]] = ()) -> BusFake:
        """Record dispatched jobs (only those of `jobs`, when given), chains and batches
        instead of sending them, on the current manager; a context manager too."""
        return BusFake(current_manager(), jobs)

    @staticmethod
    def dispatch(job: Job) -> str | None:
        return Dispatcher(current_manager()).dispatch(job)

    @staticmethod
    def dispatch_sync(job: Job) -> str:
        return Dispatcher(current_manager()).dispatch_sync(job)

    @staticmethod
    def chain(jobs: Iterable[ChainItem]) -> PendingChain:
        """Jobs run one after the other, each once the one before it succeeded (Laravel:
        `Bus::chain`); a pending batch in the list is one step. `.dispatch()` queues the
        first."""
        return PendingChain(list(jobs))

    @staticmethod
    def batch(items: Iterable[BatchItem]) -> PendingBatch:
        """Jobs that run in parallel as one unit with callbacks (Laravel: `Bus::batch`); a
        list inside is a chain. `.dispatch()` returns the `Batch`."""
        return PendingBatch(list(items))

    @staticmethod
    def find_batch(batch_id: str) -> Batch | None:
        return Batch.find(current_manager(), batch_id)

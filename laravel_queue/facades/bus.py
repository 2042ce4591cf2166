"""Laravel's Bus facade, on the current manager: `Bus.dispatch(job)`, `Bus.dispatch_sync(job)`
(what `Job.dispatch` and `Job.dispatch_sync` call), `Bus.chain([...])`, `Bus.batch([...])`
and `Bus.find_batch(id)`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from laravel_queue.bus.batch import Batch, BatchItem, PendingBatch
from laravel_queue.bus.chain import PendingChain
from laravel_queue.bus.dispatcher import Dispatcher
from laravel_queue.jobs.serialization import ChainItem
from laravel_queue.manager import current_manager
from laravel_queue.testing.bus_fake import BusFake
from laravel_queue.testing.matching import Expected, Predicate

if TYPE_CHECKING:
    from laravel_queue.dispatchable import Job


class Bus:
    """Laravel's Bus facade (`Illuminate\\Support\\Facades\\Bus`)."""

    @staticmethod
    def fake(jobs: Iterable[type[Job]] = ()) -> BusFake:
        """Record dispatched jobs (only those of `jobs`, when given), chains and batches
        instead of sending them, on the current manager; a context manager too."""
        return BusFake(current_manager(), jobs)

    # Laravel's Bus::assertDispatched(...) and friends: the assertions of the active fake.

    @staticmethod
    def assert_dispatched(
        cls: type[Job], predicate_or_times: Predicate | int | None = None
    ) -> None:
        _bus_fake().assert_dispatched(cls, predicate_or_times)

    @staticmethod
    def assert_not_dispatched(cls: type[Job], predicate: Predicate | None = None) -> None:
        _bus_fake().assert_not_dispatched(cls, predicate)

    @staticmethod
    def assert_nothing_dispatched() -> None:
        _bus_fake().assert_nothing_dispatched()

    @staticmethod
    def assert_chained(chain: Sequence[Expected]) -> None:
        _bus_fake().assert_chained(chain)

    @staticmethod
    def assert_batched(predicate: Predicate) -> None:
        _bus_fake().assert_batched(predicate)

    @staticmethod
    def assert_batch_count(count: int) -> None:
        _bus_fake().assert_batch_count(count)

    @staticmethod
    def assert_nothing_batched() -> None:
        _bus_fake().assert_nothing_batched()

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
        return PendingChain(list(jobs), current_manager())

    @staticmethod
    def batch(items: Iterable[BatchItem]) -> PendingBatch:
        """Jobs that run in parallel as one unit with callbacks (Laravel: `Bus::batch`); a
        list inside is a chain. `.dispatch()` returns the `Batch`."""
        return PendingBatch(list(items), current_manager())

    @staticmethod
    def find_batch(batch_id: str) -> Batch | None:
        return Batch.find(current_manager(), batch_id)


def _bus_fake() -> BusFake:
    recorder = current_manager().dispatch_recorder
    if not isinstance(recorder, BusFake):
        raise AssertionError("Bus.assert_*() needs Bus.fake() first (no fake is active)")
    return recorder

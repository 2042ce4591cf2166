"""Where `Queue.fake()` and `Bus.fake()` plug in: a manager holding a recorder records what
it takes instead of sending it (Laravel swaps the queue manager and the bus dispatcher for
fakes; here the manager keeps its stores and only the sending is replaced)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .batches import Batch, PendingBatch
    from .job import Job
    from .manager import QueueManager


class PushRecorder(Protocol):
    """Takes pushes onto a connection (`Queue.fake()`)."""

    def takes(self, job: Job) -> bool: ...

    def record_push(
        self, job: Job, connection: str, queue: str, delay: float, job_id: str
    ) -> None: ...


class DispatchRecorder(Protocol):
    """Takes dispatches, chains included, and batches (`Bus.fake()`)."""

    def takes(self, job: Job) -> bool: ...

    def record_dispatch(self, job: Job, job_id: str) -> None: ...

    def record_batch(self, pending: PendingBatch, manager: QueueManager) -> Batch: ...

"""Batches (Laravel: `Bus::batch`, PendingBatch, Batch).

`Bus.batch([...]).then(...).dispatch()` stores a `job_batches` row, runs the `before`
callbacks, counts the jobs in and pushes them, each carrying the batch id in its `lq` header
and Celery's `group_id`/`group_index` (so Flower groups them). What happens when a batched
job ends (its count, the callbacks) is `batch_outcomes`.

A list inside a batch is a chain: all its jobs count, and its head takes the batch's queue
and connection. As in Laravel, `then` waits until every job has succeeded, even with
`allow_failures()` (a failed job retried with `lq failed:retry` can still let it fire).
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeAlias

from laravel_queue import events
from laravel_queue.bus.callbacks import Callback, callback_spec, invoke
from laravel_queue.bus.host import BusHost
from laravel_queue.jobs.queueable import Queueable, require_job_instance
from laravel_queue.jobs.serialization import apply_chain_defaults, chain_link, job_from_link
from laravel_queue.messages.batch_record import BatchRecord
from laravel_queue.messages.payload import ChainState

BatchItem: TypeAlias = "Queueable | Sequence[Queueable]"
"""A job, or a list of jobs (a chain)."""

CALLBACK_KINDS = ("before", "then", "catch", "finally", "progress")


@dataclass(frozen=True)
class Batch(BatchRecord):
    """A batch as read from `job_batches` (Laravel: `Illuminate\\Bus\\Batch`); `fresh()`
    reads it again."""

    manager: BusHost = field(kw_only=True, repr=False, compare=False)

    @classmethod
    def from_record(cls, record: BatchRecord, manager: BusHost) -> Batch:
        return cls(**vars(record), manager=manager)

    @classmethod
    def find(cls, manager: BusHost, batch_id: str) -> Batch | None:
        record = manager.batches.find(batch_id)
        return cls.from_record(record, manager) if record is not None else None

    def fresh(self) -> Batch:
        return Batch.find(self.manager, self.id) or self

    def cancel(self) -> None:
        """Mark the batch cancelled (and finished); queued jobs still run unless they check
        `self.batch().cancelled()` or use `SkipIfBatchCancelled`."""
        if self.manager.batches.cancel(self.id):
            events.dispatch(events.BatchCanceled(cancelled_now(self)))

    def delete(self) -> None:
        self.manager.batches.delete(self.id)

    def add(self, items: Iterable[BatchItem]) -> Batch:
        """Add jobs (or chains, as lists) to the batch — also from a job of the batch."""
        groups = [as_chain(item) for item in items]
        count = sum(len(group) for group in groups)
        if count:
            self.manager.batches.increment_total(self.id, count)
            self._push(groups)
        return self.fresh()

    def _push(self, groups: list[list[Queueable]]) -> None:
        queue, connection = self.options.get("queue"), self.options.get("connection")
        by_connection: dict[str | None, list[Queueable]] = defaultdict(list)
        for index, (head, *rest) in enumerate(groups):
            head.options.queue = queue or head.options.queue
            head.options.connection = connection or head.options.connection
            head.options.batch_id, head.options.batch_index = self.id, index
            head.options.batch_progress = bool(self.options.get("progress"))
            if rest:
                links = [chain_link(job) for job in rest]
                head.options.chain = ChainState(links, [], queue, connection)
                apply_chain_defaults(head, head.options.chain)
            by_connection[self.manager.routes.connection_for(head)].append(head)
        for name, heads in by_connection.items():
            self.manager.connection(name).bulk(heads)


def as_chain(item: BatchItem) -> list[Queueable]:
    """The jobs of one item of a batch: a job alone, or a list of them (a chain)."""
    items: list[object] = list(item) if isinstance(item, (list, tuple)) else [item]
    jobs = [require_job_instance(job, "a batch") for job in items]
    if not jobs:
        raise ValueError("a chain inside a batch needs at least one job")
    return jobs


class PendingBatch:
    """A batch being built: `Bus.batch([...]).name("import").then(done).dispatch()`."""

    def __init__(self, items: Sequence[BatchItem], manager: BusHost) -> None:
        self.items = list(items)
        for item in self.items:
            as_chain(item)
        self.manager = manager
        self._name = ""
        self._options: dict[str, Any] = {kind: [] for kind in CALLBACK_KINDS}
        self._options.update(allow_failures=False, queue=None, connection=None)

    def name(self, name: str) -> PendingBatch:
        self._name = name
        return self

    @property
    def batch_name(self) -> str:
        """The name given with `.name()` (for `Bus.fake().assert_batched` predicates)."""
        return self._name

    @property
    def jobs(self) -> list[Queueable]:
        """Every job of the batch, chains flattened, in order."""
        return [job for item in self.items for job in as_chain(item)]

    @property
    def options(self) -> dict[str, Any]:
        """The batch's options as they will be stored: its callbacks, `allow_failures`,
        `queue`, `connection`."""
        return self._options

    def allows_failures(self) -> bool:
        return bool(self._options["allow_failures"])

    def _callback(self, kind: str, callback: Callback, label: str) -> PendingBatch:
        self._options[kind].append(callback_spec(callback, f"batch {label}()"))
        return self

    def before(self, callback: Callback) -> PendingBatch:
        """`callback(batch)` once the batch row exists, before any job is queued."""
        return self._callback("before", callback, "before")

    def then(self, callback: Callback) -> PendingBatch:
        """`callback(batch)` when every job has succeeded."""
        return self._callback("then", callback, "then")

    def catch(self, callback: Callback) -> PendingBatch:
        """`callback(batch, exc)` on the first failure."""
        return self._callback("catch", callback, "catch")

    def finally_(self, callback: Callback) -> PendingBatch:
        """`callback(batch)` when every job has ended once, succeeded or failed."""
        return self._callback("finally", callback, "finally_")

    def progress(self, callback: Callback) -> PendingBatch:
        """`callback(batch)` after each job that ends."""
        return self._callback("progress", callback, "progress")

    def allow_failures(self, allow: bool = True) -> PendingBatch:
        """Keep going after a failure instead of cancelling the batch."""
        self._options["allow_failures"] = allow
        return self

    def on_queue(self, queue: str) -> PendingBatch:
        self._options["queue"] = queue
        return self

    def on_connection(self, connection: str) -> PendingBatch:
        self._options["connection"] = connection
        return self

    def as_chain_link(self) -> dict[str, Any]:
        """This batch as one step of a chain, dispatched when the chain reaches it."""
        items = [[chain_link(job) for job in as_chain(item)] for item in self.items]
        return {"batch": {"name": self._name, "options": self._options, "items": items}}

    def dispatch(self) -> Batch:
        """Store the batch, run `before`, queue the jobs; the `Batch` (its row exists before
        this returns). If queueing fails, the row is deleted and the error raised."""
        manager = self.manager
        if manager.dispatch_recorder is not None:  # Bus.fake(): recorded, nothing stored
            return Batch.from_record(manager.dispatch_recorder.record_batch(self), manager)
        batch = Batch.from_record(manager.batches.store(self._name, self._options), manager)
        for spec in self._options["before"]:
            invoke(spec, manager, batch)
        try:
            dispatched = batch.add(self.items)
        except BaseException:
            batch.delete()
            raise
        events.dispatch(events.BatchDispatched(dispatched))
        return dispatched


def cancelled_now(batch: Batch) -> Batch:
    """The batch as its cancel left it, without reading it again."""
    now = int(time.time())
    return replace(batch, cancelled_at=now, finished_at=batch.finished_at or now)


def dispatch_batch_link(manager: BusHost, link: dict[str, Any], rest: ChainState) -> str:
    """A chain reached a batch (Laravel: ChainedBatch): dispatch it with the rest of the
    chain in its `finally` (sent only if the batch was not cancelled) and the chain's
    `catch` in its own (run only if the batch does not allow failures)."""
    spec = link["batch"]
    groups = [[job_from_link(each) for each in group] for group in spec["items"]]
    pending = PendingBatch(groups, manager)
    pending._name = str(spec.get("name") or "")
    pending._options = copy.deepcopy(spec["options"])
    if rest.links:
        pending._options["finally"].append({"continue_chain": asdict(rest)})
    if rest.catch:
        pending._options["catch"].append({"chain_catch": rest.catch})
    return pending.dispatch().id

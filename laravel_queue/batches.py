"""Batches (Laravel: `Bus::batch`, PendingBatch, Batch, and CallQueuedHandler's batch hooks).

`Bus.batch([...]).then(...).dispatch()` stores a `job_batches` row, runs the `before`
callbacks, counts the jobs in and pushes them, each carrying the batch id in its `lq` header
and Celery's `group_id`/`group_index` (so Flower groups them). When a batched job ends, the
runtime tells this module (`runtime.after_run`), which counts the outcome once
(`batch_store`) and fires the callbacks Laravel's rules call for:

- success: pending - 1; `progress`; `then` when pending reaches 0; `finally` when every job
  has ended once (pending == failed);
- final failure: failed + 1; the first failure cancels the batch unless `allow_failures()`;
  `catch` on the first failure only; `progress`; `finally` when pending == failed.

A list inside a batch is a chain: all its jobs count, and its head takes the batch's queue
and connection. As in Laravel, `then` waits until every job has succeeded, even with
`allow_failures()` (a failed job retried with `lq failed:retry` can still let it fire).
"""

from __future__ import annotations

import copy
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from . import events, runtime
from .batch_store.record import BatchRecord
from .callbacks import Callback, callback_spec, invoke
from .chain import apply_chain_defaults, continue_chain, register_link_kind
from .connection import require_job_instance
from .dispatching import chain_link, job_from_link
from .exceptions import StoreTimeoutError
from .failed.bounded import call_within
from .failed.spool import Spool
from .manager import QueueManager, current_manager
from .payload import ChainState

if TYPE_CHECKING:
    from .job import Job
    from .runtime import JobRun

logger = logging.getLogger("laravel_queue.worker")

T = TypeVar("T")

BatchItem = Any
"""A `Job`, or a list of jobs (a chain)."""

CALLBACK_KINDS = ("before", "then", "catch", "finally", "progress")


@dataclass(frozen=True)
class Batch(BatchRecord):
    """A batch as read from `job_batches` (Laravel: `Illuminate\\Bus\\Batch`); `fresh()`
    reads it again."""

    manager: QueueManager = field(kw_only=True, repr=False, compare=False)

    @classmethod
    def from_record(cls, record: BatchRecord, manager: QueueManager) -> Batch:
        return cls(**vars(record), manager=manager)

    @classmethod
    def find(cls, manager: QueueManager, batch_id: str) -> Batch | None:
        record = manager.batches.find(batch_id)
        return cls.from_record(record, manager) if record is not None else None

    def processed_jobs(self) -> int:
        """Jobs that succeeded (failures are not "processed", as in Laravel)."""
        return self.total_jobs - self.pending_jobs

    def progress(self) -> int:
        """Percent processed, rounded (0 for an empty batch)."""
        return round(self.processed_jobs() / self.total_jobs * 100) if self.total_jobs else 0

    def finished(self) -> bool:
        return self.finished_at is not None

    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def has_failures(self) -> bool:
        return self.failed_jobs > 0

    def allows_failures(self) -> bool:
        return bool(self.options.get("allow_failures"))

    def fresh(self) -> Batch:
        return Batch.find(self.manager, self.id) or self

    def cancel(self) -> None:
        """Mark the batch cancelled (and finished); queued jobs still run unless they check
        `self.batch().cancelled()` or use `SkipIfBatchCancelled`."""
        if self.manager.batches.cancel(self.id):
            events.dispatch(events.BatchCanceled(_cancelled(self)))

    def delete(self) -> None:
        self.manager.batches.delete(self.id)

    def add(self, items: Iterable[BatchItem]) -> Batch:
        """Add jobs (or chains, as lists) to the batch — also from a job of the batch."""
        groups = [_as_chain(item) for item in items]
        count = sum(len(group) for group in groups)
        if count:
            self.manager.batches.increment_total(self.id, count)
            self._push(groups)
        return self.fresh()

    def _push(self, groups: list[list[Job]]) -> None:
        queue, connection = self.options.get("queue"), self.options.get("connection")
        by_connection: dict[str | None, list[Job]] = defaultdict(list)
        for index, (head, *rest) in enumerate(groups):
            head.options.queue = queue or head.options.queue
            head.options.connection = connection or head.options.connection
            head.options.batch_id, head.options.batch_index = self.id, index
            head.options.batch_progress = bool(self.options.get("progress"))
            if rest:
                links = [chain_link(job) for job in rest]
                head.options.chain = ChainState(links, [], queue, connection)
                apply_chain_defaults(head, head.options.chain)
            by_connection[head.options.connection or head.connection].append(head)
        for name, heads in by_connection.items():
            self.manager.connection(name).bulk(heads)


def _as_chain(item: BatchItem) -> list[Job]:
    jobs = list(item) if isinstance(item, (list, tuple)) else [item]
    for job in jobs:
        require_job_instance(job, "a batch")
    if not jobs:
        raise ValueError("a chain inside a batch needs at least one job")
    return jobs


class PendingBatch:
    """A batch being built: `Bus.batch([...]).name("import").then(done).dispatch()`."""

    def __init__(self, items: Sequence[BatchItem], manager: QueueManager | None = None) -> None:
        self.items = list(items)
        for item in self.items:
            _as_chain(item)
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
    def jobs(self) -> list[Job]:
        """Every job of the batch, chains flattened, in order."""
        return [job for item in self.items for job in _as_chain(item)]

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
        items = [[chain_link(job) for job in _as_chain(item)] for item in self.items]
        return {"batch": {"name": self._name, "options": self._options, "items": items}}

    def dispatch(self) -> Batch:
        """Store the batch, run `before`, queue the jobs; the `Batch` (its row exists before
        this returns). If queueing fails, the row is deleted and the error raised."""
        manager = self.manager or current_manager()
        if manager.dispatch_recorder is not None:  # Bus.fake(): recorded, nothing stored
            return manager.dispatch_recorder.record_batch(self, manager)
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


def _after_run(run: JobRun, failure: BaseException | None) -> None:
    """The runtime's hook: count the job's outcome in its batch, then fire callbacks (unless
    the worker's main process counts this success, with others, once the job has ended)."""
    if run.header.batch_id and not (failure is None and run.success_counted_by_worker):
        count_outcome(run.manager, run.header.batch_id, run.job_id, failure)


def count_outcome(
    manager: QueueManager, batch_id: str, job_uuid: str, failure: BaseException | None
) -> None:
    """Count one job's outcome and fire the callbacks it calls for. A database that fails or
    does not answer within `store_timeout` gets the count spooled (fsynced) instead, and for
    the next `store_timeout` seconds this process spools at once rather than wait again:
    the count is made, and its callbacks fired, when the worker drains the spool — never
    lost, never counted twice (counts are keyed on the job's uuid). A write that was only
    slow still completes in its thread and fires its own callbacks; its spooled copy then
    counts nothing."""
    _counted_or_spooled(
        manager, batch_id, [job_uuid], failure, lambda: _count(manager, batch_id, job_uuid, failure)
    )


@dataclass(frozen=True)
class DueCallbacks:
    """The callbacks a count calls for: `progress` once per job counted, `then` when pending
    reached 0, `catch` on the first failure, `finally` when every job has ended once. Only
    the one count that moves the counters there sees each, so each fires once."""

    batch_id: str
    progress: int = 0
    then: bool = False
    catch: bool = False
    finally_: bool = False

    @classmethod
    def of(cls, record: BatchRecord, counted: int, failure: BaseException | None) -> DueCallbacks:
        return cls(
            record.id,
            progress=counted,
            then=failure is None and record.pending_jobs == 0,
            catch=failure is not None and record.failed_jobs == 1,
            finally_=record.pending_jobs - record.failed_jobs == 0,
        )


def count_successes(
    manager: QueueManager,
    batch_id: str,
    job_uuids: list[str],
    on_due: Callable[[DueCallbacks], object],
) -> None:
    """Count several successes of one batch at once (what a worker's main process does for
    the batched jobs its pool finished), bounded and spooled as `count_outcome` is, and hand
    the callbacks the count calls for to `on_due`, which has them run (`fire_due_callbacks`).
    As with `count_outcome`, a count that was only slow still hands them over."""

    def count() -> None:
        record, counted = manager.batches.record_successes(batch_id, job_uuids)
        if record is None:
            return
        if record.pending_jobs == 0:
            manager.batches.mark_finished(batch_id)
        # `progress` only for a job queued without `batch_progress` in its header (by an
        # older version): the others of such a batch count themselves
        due = DueCallbacks.of(record, counted if record.options.get("progress") else 0, None)
        if due.progress or due.then or due.finally_:
            on_due(due)

    _counted_or_spooled(manager, batch_id, job_uuids, None, count)


def fire_due_callbacks(manager: QueueManager, due: DueCallbacks) -> None:
    """Run the callbacks a count of successes called for, with the batch as it is now."""
    batch = Batch.find(manager, due.batch_id)
    if batch is not None:  # else deleted meanwhile
        _fire(batch, manager, due, None)


def _counted_or_spooled(
    manager: QueueManager,
    batch_id: str,
    job_uuids: list[str],
    failure: BaseException | None,
    count: Callable[[], T],
) -> T | None:
    """`count()` within `store_timeout`; if the database fails or does not answer, the
    outcomes are spooled instead (None), and for `store_timeout` seconds this process spools
    at once, without waiting again."""
    global _spool_until
    try:
        if time.monotonic() < _spool_until:
            raise StoreTimeoutError("the batches database did not answer a moment ago")
        return call_within(manager.store_timeout, count, "the batches database")
    except Exception as exc:
        _spool_until = time.monotonic() + manager.store_timeout
        reason = None if failure is None else f"{type(failure).__name__}: {failure}"
        Spool(manager.batch_spool).append_all(
            [{"batch_id": batch_id, "job_uuid": each, "failure": reason} for each in job_uuids]
        )
        logger.warning(
            "batch %s cannot be counted (%s); %d job outcome(s) spooled to %s until it can",
            batch_id,
            f"{type(exc).__name__}: {exc}",
            len(job_uuids),
            manager.batch_spool,
        )
        return None


# Until when this process spools counts without trying the database (it just failed).
_spool_until = 0.0


def drain_spooled_counts(manager: QueueManager) -> int:
    """Count what was spooled while the database was down; raises while it still is (what
    was not counted stays spooled)."""
    spool = Spool(manager.batch_spool)
    if not spool.pending():
        return 0

    def count(data: dict[str, Any]) -> None:
        failure = SpooledFailure(data["failure"]) if data.get("failure") else None
        call_within(
            manager.store_timeout,
            lambda: _count(manager, data["batch_id"], data["job_uuid"], failure),
            "the batches database",
        )

    moved = spool.drain(count)
    logger.warning("counted %d spooled batch job outcome(s)", moved)
    return moved


def _count(
    manager: QueueManager, batch_id: str, job_uuid: str, failure: BaseException | None
) -> None:
    if failure is None:
        record = manager.batches.record_success(batch_id, job_uuid)
    else:
        record = manager.batches.record_failure(batch_id, job_uuid)
    if record is not None:  # None: this job had counted already (it ran again)
        _fire_callbacks(manager, record, failure)


class SpooledFailure(Exception):
    """A batched job's failure counted after a database outage: its exception as text."""


def _fire_callbacks(
    manager: QueueManager, record: BatchRecord, failure: BaseException | None
) -> None:
    """What one job's count calls for, in the process that counted it."""
    batches = manager.batches
    batch = Batch.from_record(record, manager)
    due = DueCallbacks.of(record, 1, failure)
    try:
        if failure is not None and not batch.allows_failures() and batches.cancel(batch.id):
            events.dispatch(events.BatchCanceled(_cancelled(batch)))
        if due.then:
            batches.mark_finished(batch.id)
    except Exception:
        logger.exception("batch %s: could not be cancelled or marked finished", batch.id)
    _fire(batch, manager, due, failure)


def _fire(
    batch: Batch, manager: QueueManager, due: DueCallbacks, failure: BaseException | None
) -> None:
    """Fire what is due, in Laravel's order. The count is committed: an error here is
    logged, not raised (running the job again would not count it again, nor fire these)."""
    fire = _firing(batch, manager)
    try:
        for _ in range(due.progress):
            fire("progress")
        if due.then:
            fire("then")
        if due.catch:
            fire("catch", failure)
        if due.finally_:
            fire("finally")
            events.dispatch(events.BatchFinished(batch))
    except Exception:
        logger.exception("batch %s: its callbacks could not all run", batch.id)


def _cancelled(batch: Batch) -> Batch:
    """The batch as its cancel left it, without reading it again."""
    now = int(time.time())
    return replace(batch, cancelled_at=now, finished_at=batch.finished_at or now)


def _firing(batch: Batch, manager: QueueManager) -> Any:
    def fire(kind: str, *extra: Any) -> None:
        specs = batch.options.get(kind) or []
        if specs:
            current = batch.fresh()
            for spec in specs:
                if "continue_chain" in spec:  # a batch inside a chain: the rest of it
                    if not current.cancelled():
                        continue_chain(manager, ChainState(**spec["continue_chain"]))
                elif "chain_catch" in spec:  # the chain's catch, unless failures are allowed
                    if not current.allows_failures():
                        for chain_spec in spec["chain_catch"]:
                            invoke(chain_spec, manager, *extra)
                else:
                    invoke(spec, manager, current, *extra)

    return fire


def _dispatch_batch_link(manager: QueueManager, link: dict[str, Any], rest: ChainState) -> str:
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


register_link_kind("batch", _dispatch_batch_link)


runtime.after_run(_after_run)

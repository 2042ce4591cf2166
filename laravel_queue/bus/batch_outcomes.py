"""Counting a batched job's outcome and firing what it calls for (Laravel: Batch::
recordSuccessfulJob / recordFailedJob, and the callbacks CallQueuedHandler runs after them).

When a batched job ends, its run calls `count_outcome` (`JobRun`'s "count the batch outcome"
step), which counts the outcome once (`batch_repository`) and fires the callbacks Laravel's
rules call for:

- success: pending - 1; `progress`; `then` when pending reaches 0; `finally` when every job
  has ended once (pending == failed);
- final failure: failed + 1; the first failure cancels the batch unless `allow_failures()`;
  `catch` on the first failure only; `progress`; `finally` when pending == failed.

A worker's main process counts the successes of its pool's batched jobs itself, many at a
time (`count_successes`, from `laravel_queue.worker.batch_counts`); the job then skips its own.
A count the database cannot take in `store_timeout` is spooled and made later, never lost.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from laravel_queue import events
from laravel_queue.bus.batch import Batch, cancelled_now
from laravel_queue.bus.callbacks import invoke
from laravel_queue.bus.chain import continue_chain
from laravel_queue.bus.host import BusHost
from laravel_queue.db.bounded import call_within, store_unavailable
from laravel_queue.db.spool import Spool
from laravel_queue.exceptions import BatchUnreadableError, StoreTimeoutError
from laravel_queue.messages.batch_record import BatchRecord
from laravel_queue.messages.payload import ChainState, JobMessage

logger = logging.getLogger("laravel_queue.worker")


def count_outcome(
    manager: BusHost, batch_id: str, job_uuid: str, failure: BaseException | None
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
    started: bool = False  # the first job(s) of the batch to end: `BatchStarted`

    @classmethod
    def of(
        cls,
        record: BatchRecord,
        counted: int,
        failure: BaseException | None,
        *,
        progress: bool = True,
    ) -> DueCallbacks:
        ended = record.total_jobs - record.pending_jobs + record.failed_jobs
        return cls(
            record.id,
            progress=counted if progress else 0,
            started=ended == counted,
            then=failure is None and record.pending_jobs == 0,
            catch=failure is not None and record.failed_jobs == 1,
            finally_=record.pending_jobs - record.failed_jobs == 0,
        )


def count_successes(
    manager: BusHost,
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
        due = _heard(
            DueCallbacks.of(record, counted, None, progress=bool(record.options.get("progress"))),
            record,
        )
        if due.progress or due.started or due.then or due.finally_:
            on_due(due)

    _counted_or_spooled(manager, batch_id, job_uuids, None, count)


def _heard(due: DueCallbacks, record: BatchRecord) -> DueCallbacks:
    """Only what the batch has a callback or a listener for: a `BatchCallbacks` job with
    nothing to do would still be queued, and — tried once — end in `failed_jobs` when a
    worker died holding it. A row that cannot be read cannot tell: its `then` and `finally`
    stay due, so the job records why they could not run."""
    unreadable = record.problem is not None
    return replace(
        due,
        started=due.started and events.listened(events.BatchStarted),
        then=due.then and (unreadable or bool(record.options.get("then"))),
        finally_=due.finally_
        and (
            unreadable
            or bool(record.options.get("finally"))
            or events.listened(events.BatchFinished)
        ),
    )


def fire_due_callbacks(manager: BusHost, due: DueCallbacks) -> None:
    """Run the callbacks a count of successes called for, with the batch as it is now."""
    batch = Batch.find(manager, due.batch_id)
    if batch is not None:  # else deleted meanwhile
        _fire(batch, manager, due, None)


def _counted_or_spooled(
    manager: BusHost,
    batch_id: str,
    job_uuids: list[str],
    failure: BaseException | None,
    count: Callable[[], object],
) -> None:
    """`count()` within `store_timeout`; if the database fails or does not answer, the
    outcomes are spooled instead, and for `store_timeout` seconds this process spools at
    once, without waiting again."""
    global _spool_until
    try:
        if time.monotonic() < _spool_until:
            raise StoreTimeoutError("the batches database did not answer a moment ago")
        call_within(manager.store_timeout, count, "the batches database")
    except Exception as exc:
        if store_unavailable(exc):  # a count that is wrong itself says nothing of the database
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


# Until when this process spools counts without trying the database (it just failed).
_spool_until = 0.0


def drain_spooled_counts(manager: BusHost) -> int:
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

    moved = spool.drain(count, unavailable=store_unavailable)
    logger.warning("counted %d spooled batch job outcome(s)", moved)
    return moved


def _count(manager: BusHost, batch_id: str, job_uuid: str, failure: BaseException | None) -> None:
    if failure is None:
        record = manager.batches.record_success(batch_id, job_uuid)
    else:
        record = manager.batches.record_failure(batch_id, job_uuid)
    if record is not None:  # None: this job had counted already (it ran again)
        _fire_callbacks(manager, record, failure)


class SpooledFailure(Exception):
    """A batched job's failure counted after a database outage: its exception as text."""


def _fire_callbacks(manager: BusHost, record: BatchRecord, failure: BaseException | None) -> None:
    """What one job's count calls for, in the process that counted it."""
    batches = manager.batches
    batch = Batch.from_record(record, manager)
    due = DueCallbacks.of(record, 1, failure)
    try:
        if failure is not None and not batch.allows_failures() and batches.cancel(batch.id):
            events.dispatch(events.BatchCanceled(cancelled_now(batch)))
        if due.then:
            batches.mark_finished(batch.id)
    except Exception:
        logger.exception("batch %s: could not be cancelled or marked finished", batch.id)
    _fire(batch, manager, due, failure)


def _fire(batch: Batch, manager: BusHost, due: DueCallbacks, failure: BaseException | None) -> None:
    """Fire what is due, in Laravel's order. The count is committed: an error here is
    logged, not raised (running the job again would not count it again, nor fire these)."""
    if batch.problem is not None and (due.then or due.catch or due.finally_):
        _record_unreadable(batch, manager, due)
        return
    fire = _firing(batch, manager)
    try:
        if due.started:  # Laravel 13: when the first job ends, before then/catch
            events.dispatch(events.BatchStarted(batch))
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


# The job that runs a batch's callbacks (`laravel_queue.worker.batch_counts.BatchCallbacks`),
# by its task name: a row recorded under it runs them with `lq failed:retry`.
BATCH_CALLBACKS_TASK = "laravel_queue.worker.batch_counts.BatchCallbacks"


def _record_unreadable(batch: Batch, manager: BusHost, due: DueCallbacks) -> None:
    """A batch whose row cannot be read cannot know its callbacks: its `then`, `catch` or
    `finally` is recorded in `failed_jobs` with the reason, as the job that would run them,
    so `lq failed:retry` runs them once the row is fixed; the batch is marked finished when
    its jobs are done, as any other."""
    called = [
        kind
        for kind, now in (("then", due.then), ("catch", due.catch), ("finally", due.finally_))
        if now
    ]
    exc = BatchUnreadableError(
        f"batch {batch.id} ({batch.name}): {batch.problem}; its {' and '.join(called)} "
        "callbacks could not run (fix the row, then retry this failed job to run them)"
    )
    state = {"batch_id": batch.id, "progress": 0, "then": due.then, "finally_": due.finally_}
    message = JobMessage(
        task=BATCH_CALLBACKS_TASK,
        id=str(uuid.uuid4()),
        kwargs=state,
        queue=str(batch.options.get("queue") or manager.default_queue),
        connection=str(batch.options.get("connection") or "default"),
    )
    logger.error("%s", exc)
    manager.failed.log(message, exc)


def _firing(batch: Batch, manager: BusHost) -> Callable[..., None]:
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

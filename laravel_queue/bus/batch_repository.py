"""The `job_batches` table (Laravel: DatabaseBatchRepository), without its row-lock deadlocks.

Laravel counts a finished job with `SELECT ... FOR UPDATE` and an `UPDATE` in one transaction,
holding the batch's row across round trips; under load the workers queue on it and deadlock
(laravel/framework#35711). Here a count is one `UPDATE` of the counters, read back in the
same transaction (`RETURNING` where the database has it), so the row is locked for one
statement. Each job counts once per outcome: `lq_batch_jobs` keeps what each job uuid has
counted for, so a job run twice (redelivered after its worker died, retried from
`failed_jobs`) never moves the counters twice, and a retried failure that succeeds moves its
uuid from failed to done as Laravel's `recordSuccessfulJob` does.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Update,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError

from laravel_queue.db.schema import job_batches, lq_batch_jobs
from laravel_queue.db.upsert import insert_new, insert_new_rows
from laravel_queue.messages.batch_record import BatchRecord

DONE, FAILED = "done", "failed"

T = TypeVar("T")


class BatchRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def store(self, name: str, options: dict[str, Any]) -> BatchRecord:
        """A new, empty batch (Laravel: `total = pending = failed = 0`)."""
        values = {
            "id": str(uuid.uuid4()),
            "name": name,
            "total_jobs": 0,
            "pending_jobs": 0,
            "failed_jobs": 0,
            "failed_job_ids": "[]",
            "options": json.dumps(options),
            "created_at": int(time.time()),
        }
        with self.engine.begin() as db:
            db.execute(insert(job_batches).values(**values))
        found = self.find(str(values["id"]))
        assert found is not None
        return found

    def find(self, batch_id: str) -> BatchRecord | None:
        with self.engine.connect() as db:
            row = db.execute(select(job_batches).where(job_batches.c.id == batch_id)).first()
        return BatchRecord.of(row) if row is not None else None

    def all(self, limit: int = 50) -> list[BatchRecord]:
        """The newest batches first."""
        query = select(job_batches).order_by(job_batches.c.created_at.desc()).limit(limit)
        with self.engine.connect() as db:
            return [BatchRecord.of(row) for row in db.execute(query)]

    def increment_total(self, batch_id: str, count: int) -> None:
        """Jobs were added: total and pending up, the batch unfinished again (Laravel)."""
        b = job_batches.c
        with self.engine.begin() as db:
            db.execute(
                update(job_batches)
                .where(b.id == batch_id)
                .values(
                    total_jobs=b.total_jobs + count,
                    pending_jobs=b.pending_jobs + count,
                    finished_at=None,
                )
            )

    def record_success(self, batch_id: str, job_uuid: str) -> BatchRecord | None:
        """Count a job as done; None when it had counted as done already."""
        record, counted = self.record_successes(batch_id, [job_uuid])
        return record if counted else None

    def record_successes(
        self, batch_id: str, job_uuids: Iterable[str]
    ) -> tuple[BatchRecord | None, int]:
        """Count jobs as done: the batch as the count left it and how many counted, or
        `(None, 0)` when every one had counted as done already. A worker's main process
        counts all that its pool finished in a moment at once; a job counts itself alone."""
        uuids = sorted(set(job_uuids))  # one order for every writer: fewer deadlocks
        record, counted = None, 0
        if uuids and self.engine.dialect.name == "postgresql":
            record, counted = self._first_successes_in_one_statement(batch_id, uuids)
            if counted == len(uuids):
                return record, counted
            # else some had an outcome already (ran before, or failed before): the general path
        if uuids:
            later, more = _again_if_deadlocked(
                lambda: self._successes_in_a_transaction(batch_id, uuids)
            )
            record, counted = later or record, counted + more
        return record, counted

    def _first_successes_in_one_statement(
        self, batch_id: str, uuids: list[str]
    ) -> tuple[BatchRecord | None, int]:
        """The common case on PostgreSQL — the jobs' first outcomes, successes — as one
        statement: the outcome rows inserted (unless there) and the counter moved by as many
        as were, in one round trip (no BEGIN, no COMMIT, no savepoint)."""
        with self._autocommit.connect() as db:
            row = db.execute(_FIRST_SUCCESSES, {"batch_id": batch_id, "job_uuids": uuids}).first()
        return (BatchRecord.of(row), int(row.counted)) if row is not None else (None, 0)

    @cached_property
    def _autocommit(self) -> Engine:
        """The same pool, its connections in autocommit (for single-statement writes)."""
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def _successes_in_a_transaction(
        self, batch_id: str, uuids: list[str]
    ) -> tuple[BatchRecord | None, int]:
        j, b = lq_batch_jobs.c, job_batches.c
        with self.engine.begin() as db:
            rows = [{"batch_id": batch_id, "job_uuid": each, "outcome": DONE} for each in uuids]
            new = insert_new_rows(db, lq_batch_jobs, rows)
            retried = 0
            if new < len(uuids):  # some had counted before: a failure that succeeded now?
                retried = db.execute(  # then no longer a failed job (Laravel)
                    update(lq_batch_jobs)
                    .where(j.batch_id == batch_id, j.job_uuid.in_(uuids), j.outcome == FAILED)
                    .values(outcome=DONE)
                ).rowcount
            counted = new + retried
            if not counted:
                return None, 0
            statement = update(job_batches).where(b.id == batch_id)
            statement = statement.values(pending_jobs=b.pending_jobs - counted)
            if retried:
                db.execute(statement)
                return _write_failed_ids(db, batch_id), counted
            return _update_and_read(db, batch_id, statement), counted

    def record_failure(self, batch_id: str, job_uuid: str) -> BatchRecord | None:
        """Count a job as failed for good; None when it had counted already."""
        return _again_if_deadlocked(lambda: self._failure_in_a_transaction(batch_id, job_uuid))

    def _failure_in_a_transaction(self, batch_id: str, job_uuid: str) -> BatchRecord | None:
        with self.engine.begin() as db:
            row = {"batch_id": batch_id, "job_uuid": job_uuid, "outcome": FAILED}
            if not insert_new(db, lq_batch_jobs, row):  # counted already
                return None
            b = job_batches.c
            db.execute(
                update(job_batches).where(b.id == batch_id).values(failed_jobs=b.failed_jobs + 1)
            )
            return _write_failed_ids(db, batch_id)

    def mark_finished(self, batch_id: str) -> bool:
        """Set `finished_at`; True for the one caller that set it."""
        b = job_batches.c
        with self.engine.begin() as db:
            done = db.execute(
                update(job_batches)
                .where(b.id == batch_id, b.finished_at.is_(None))
                .values(finished_at=int(time.time()))
            )
            return bool(done.rowcount == 1)

    def cancel(self, batch_id: str) -> bool:
        """Cancel (and so finish) the batch; True for the one caller that cancelled it."""
        b = job_batches.c
        now = int(time.time())
        with self.engine.begin() as db:
            done = db.execute(
                update(job_batches)
                .where(b.id == batch_id, b.cancelled_at.is_(None))
                .values(cancelled_at=now, finished_at=now)
            )
            return bool(done.rowcount == 1)

    def delete(self, batch_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(lq_batch_jobs).where(lq_batch_jobs.c.batch_id == batch_id))
            db.execute(delete(job_batches).where(job_batches.c.id == batch_id))

    def prune(
        self,
        finished_before: int,
        unfinished_before: int | None = None,
        cancelled_before: int | None = None,
    ) -> int:
        """Delete finished batches older than `finished_before` (unix time), and unfinished or
        cancelled ones older than the other limits when given (Laravel: queue:prune-batches).
        """
        b = job_batches.c
        conditions = [b.finished_at.is_not(None) & (b.finished_at < finished_before)]
        if unfinished_before is not None:
            conditions.append(b.finished_at.is_(None) & (b.created_at < unfinished_before))
        if cancelled_before is not None:
            conditions.append(b.cancelled_at.is_not(None) & (b.created_at < cancelled_before))
        with self.engine.begin() as db:
            ids = [row.id for row in db.execute(select(b.id).where(or_(*conditions)))]
            for chunk in _chunks(ids, 500):
                db.execute(delete(lq_batch_jobs).where(lq_batch_jobs.c.batch_id.in_(chunk)))
                db.execute(delete(job_batches).where(b.id.in_(chunk)))
        return len(ids)


_FIRST_SUCCESSES = text(
    f"""
    WITH marked AS (
        INSERT INTO {lq_batch_jobs.name} (batch_id, job_uuid, outcome)
        SELECT :batch_id, job_uuid, '{DONE}' FROM unnest(CAST(:job_uuids AS varchar[])) AS job_uuid
        ON CONFLICT DO NOTHING
        RETURNING job_uuid
    )
    UPDATE {job_batches.name} SET pending_jobs = pending_jobs - (SELECT count(*) FROM marked)
    WHERE id = :batch_id AND EXISTS (SELECT 1 FROM marked)
    RETURNING *, (SELECT count(*) FROM marked) AS counted
    """
)
"""PostgreSQL: insert the jobs' outcome rows unless there and move the counter by as many
as were inserted, in one statement."""


def _again_if_deadlocked(write: Callable[[], T], tries: int = 3) -> T:
    """`write()`, run again when the database chose its transaction as a deadlock's victim:
    on InnoDB two writers counting the same job (a redelivered one) can each hold a lock the
    other's next statement needs. The victim was rolled back whole, so nothing counts twice."""
    attempt = 1
    while True:
        try:
            return write()
        except DBAPIError as exc:
            if attempt >= tries or not _is_deadlock(exc):
                raise
            attempt += 1


def _is_deadlock(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg
    if sqlstate is not None:
        return sqlstate in ("40001", "40P01")  # serialization failure, deadlock detected
    args: tuple[Any, ...] = getattr(exc.orig, "args", ())
    return bool(args) and args[0] == 1213  # MySQL/MariaDB: ER_LOCK_DEADLOCK


def _write_failed_ids(db: Connection, batch_id: str) -> BatchRecord | None:
    """`failed_job_ids` from the jobs' outcomes, read after this transaction's counter
    update holds the row, so a failure counted at the same moment is never left out."""
    j = lq_batch_jobs.c
    ids = db.execute(
        select(j.job_uuid).where(j.batch_id == batch_id, j.outcome == FAILED).order_by(j.job_uuid)
    ).scalars()
    written = update(job_batches).where(job_batches.c.id == batch_id)
    return _update_and_read(db, batch_id, written.values(failed_job_ids=json.dumps(list(ids))))


def _update_and_read(db: Connection, batch_id: str, statement: Update) -> BatchRecord | None:
    """Run the UPDATE and read the row as it left it: `RETURNING` where the database has it
    (SQLite, PostgreSQL), else a SELECT in the same transaction (MariaDB, MySQL), which the
    UPDATE's row lock keeps consistent."""
    if db.dialect.update_returning:
        row = db.execute(statement.returning(*job_batches.c)).first()
    else:
        db.execute(statement)
        row = db.execute(select(job_batches).where(job_batches.c.id == batch_id)).first()
    return BatchRecord.of(row) if row is not None else None


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

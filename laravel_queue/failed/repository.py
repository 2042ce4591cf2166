"""The `failed_jobs` table (Laravel: DatabaseUuidFailedJobProvider).

A row holds the complete original message, so `lq failed:retry` can publish it again exactly
as it was. The uuid is unique; a job that fails a second time (a redelivered duplicate)
updates its row instead of violating the constraint (Laravel users hit that: semantics §3.10).
Reads go in keyset-paginated chunks, so listing or retrying any number of rows uses constant
memory.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from laravel_queue.db.schema import failed_jobs
from laravel_queue.messages.records import FailedJob, FailureRecord, parse_payload

c = failed_jobs.c

CHUNK = 1000  # Laravel's queue:prune-failed chunk


def _as_datetime(unix_time: float) -> datetime:
    return datetime.fromtimestamp(unix_time, timezone.utc).replace(tzinfo=None)


def _cutoff(hours: float) -> datetime:
    return _as_datetime(time.time() - hours * 3600)


class FailedJobRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, record: FailureRecord) -> None:
        row = {**record.to_dict(), "failed_at": _as_datetime(record.failed_at)}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(failed_jobs).values(**row))
        except IntegrityError:
            with self.engine.begin() as conn:
                conn.execute(update(failed_jobs).where(c.uuid == row["uuid"]).values(**row))

    def iterate(
        self,
        queue: str | None = None,
        connection: str | None = None,
        limit: int | None = None,
        *,
        oldest_first: bool = False,
        chunk: int = CHUNK,
    ) -> Iterator[FailedJob]:
        """Newest first (Laravel's `queue:failed` order) unless `oldest_first`."""
        last_id: int | None = None
        seen = 0
        order = c.id.asc() if oldest_first else c.id.desc()
        while limit is None or seen < limit:
            query = select(failed_jobs).order_by(order)
            if queue is not None:
                query = query.where(c.queue == queue)
            if connection is not None:
                query = query.where(c.connection == connection)
            if last_id is not None:
                query = query.where(c.id > last_id if oldest_first else c.id < last_id)
            size = chunk if limit is None else min(chunk, limit - seen)
            with self.engine.connect() as conn:
                rows = conn.execute(query.limit(size)).all()
            if not rows:
                return
            for row in rows:
                yield self._job(row)
            seen += len(rows)
            last_id = rows[-1].id

    def find(self, id_or_uuid: int | str) -> FailedJob | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(failed_jobs).where(self._match(id_or_uuid))).first()
        return None if row is None else self._job(row)

    def forget(self, id_or_uuid: int | str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(failed_jobs).where(self._match(id_or_uuid))).rowcount > 0

    def forget_rows(self, jobs: Iterable[FailedJob]) -> int:
        """Delete these rows unless they changed since they were read: a job that failed
        again meanwhile (same uuid, new failed_at) keeps its new record."""
        keys = [(job.id, job.failed_at) for job in jobs]
        if not keys:
            return 0
        with self.engine.begin() as conn:
            query = delete(failed_jobs).where(tuple_(c.id, c.failed_at).in_(keys))
            return int(conn.execute(query).rowcount)

    def flush(self, hours: float | None = None) -> int:
        """Laravel: queue:flush — every row, or those failed at least `hours` ago."""
        query = delete(failed_jobs)
        if hours is not None:
            query = query.where(c.failed_at <= _cutoff(hours))
        with self.engine.begin() as conn:
            return int(conn.execute(query).rowcount)

    def prune(self, hours: float, chunk: int = CHUNK) -> int:
        """Laravel: queue:prune-failed — rows older than `hours`, deleted `chunk` at a time so
        no statement holds a long lock on a big table (and MySQL needs no LIMIT in a subquery)."""
        cutoff = _cutoff(hours)
        deleted = 0
        while True:
            with self.engine.begin() as conn:
                ids = (
                    conn.execute(select(c.id).where(c.failed_at < cutoff).limit(chunk))
                    .scalars()
                    .all()
                )
                if not ids:
                    return deleted
                deleted += int(conn.execute(delete(failed_jobs).where(c.id.in_(ids))).rowcount)

    def count(self, queue: str | None = None) -> int:
        query = select(func.count()).select_from(failed_jobs)
        if queue is not None:
            query = query.where(c.queue == queue)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    @staticmethod
    def _match(id_or_uuid: int | str) -> Any:
        text = str(id_or_uuid)
        if text.isdigit():
            return or_(c.id == int(text), c.uuid == text)
        return c.uuid == text

    @staticmethod
    def _job(row: Any) -> FailedJob:
        return FailedJob(
            id=row.id,
            uuid=row.uuid,
            connection=row.connection,
            queue=row.queue,
            payload=parse_payload(row.payload),
            exception=row.exception,
            failed_at=row.failed_at,
        )

"""The `failed_jobs` table (Laravel: DatabaseUuidFailedJobProvider).

A row holds the complete original message, so `lq failed:retry` can publish it again exactly
as it was. The uuid is unique; a job that fails a second time (a redelivered duplicate)
updates its row instead of violating the constraint (Laravel users hit that: semantics §3.10).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..payload import JobMessage
from .schema import failed_jobs

c = failed_jobs.c


@dataclass(frozen=True)
class FailedJob:
    id: int
    uuid: str
    connection: str
    queue: str
    payload: dict[str, Any]
    exception: str
    failed_at: datetime

    @property
    def message(self) -> JobMessage:
        return JobMessage.from_dict(self.payload)

    @property
    def name(self) -> str:
        lq = self.payload.get("headers", {}).get("lq") or {}
        return str(lq.get("display_name") or self.payload.get("task", "?"))


def describe_exception(exc: BaseException | str) -> str:
    """Laravel stores `(string) $exception`: type, message and the traceback."""
    if isinstance(exc, str):
        return exc
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class FailedJobRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def log(self, message: JobMessage, exception: BaseException | str) -> None:
        row = {
            "uuid": message.id,
            "connection": message.connection,
            "queue": message.queue,
            "payload": json.dumps(message.to_dict()),
            "exception": describe_exception(exception),
            "failed_at": utcnow(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(failed_jobs).values(**row))
        except IntegrityError:
            with self.engine.begin() as conn:
                conn.execute(update(failed_jobs).where(c.uuid == row["uuid"]).values(**row))

    def all(
        self, queue: str | None = None, connection: str | None = None, limit: int | None = None
    ) -> list[FailedJob]:
        return list(self.iterate(queue=queue, connection=connection, limit=limit))

    def iterate(
        self,
        queue: str | None = None,
        connection: str | None = None,
        limit: int | None = None,
        chunk: int = 1000,
    ) -> Iterator[FailedJob]:
        """Newest first, read in chunks so any number of rows uses constant memory."""
        last_id: int | None = None
        seen = 0
        while limit is None or seen < limit:
            query = select(failed_jobs).order_by(c.id.desc())
            if queue is not None:
                query = query.where(c.queue == queue)
            if connection is not None:
                query = query.where(c.connection == connection)
            if last_id is not None:
                query = query.where(c.id < last_id)
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

    def flush(self, hours: float | None = None) -> int:
        query = delete(failed_jobs)
        if hours is not None:
            query = query.where(c.failed_at <= utcnow() - timedelta(hours=hours))
        with self.engine.begin() as conn:
            return int(conn.execute(query).rowcount)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(failed_jobs)).scalar_one())

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
            payload=json.loads(row.payload),
            exception=row.exception,
            failed_at=row.failed_at,
        )

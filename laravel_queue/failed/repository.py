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

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from laravel_queue.db.schema import failed_jobs, lq_failed_job_tags
from laravel_queue.db.search import TextSearch
from laravel_queue.failed.search import FailedSearch
from laravel_queue.messages.records import FailedJob, FailureRecord, parse_payload, tags_of

c = failed_jobs.c
t = lq_failed_job_tags.c
TAG_LENGTH = 191  # a longer tag is indexed by its first 191 characters

CHUNK = 1000  # Laravel's queue:prune-failed chunk
FIRST_WINDOW = 2000  # ids searched first, newest: a page of common text is in there
EXACT_CHUNK = 200  # rows read at a time when the class or tag is checked after the query
TAG_CHUNK = 500  # tagged ids taken from the tag index at a time


def _tag(conn: Connection, row_id: int, tags: set[str]) -> None:
    if tags:
        conn.execute(
            insert(lq_failed_job_tags), [{"tag": tag, "failed_job_id": row_id} for tag in tags]
        )


def _untag(conn: Connection, ids: Iterable[int], *, only_orphans: bool = False) -> None:
    """Delete the tags of these rows (`only_orphans`: of those no longer in the table)."""
    ids = list(ids)
    if not ids:
        return
    query = delete(lq_failed_job_tags).where(t.failed_job_id.in_(ids))
    if only_orphans:
        query = query.where(t.failed_job_id.not_in(select(c.id).where(c.id.in_(ids))))
    conn.execute(query)


def _as_datetime(unix_time: float) -> datetime:
    return datetime.fromtimestamp(unix_time, timezone.utc).replace(tzinfo=None)


def _cutoff(hours: float) -> datetime:
    return _as_datetime(time.time() - hours * 3600)


class FailedJobRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.text_search = TextSearch(engine)

    def write(self, record: FailureRecord) -> None:
        """The row and its tags, in one transaction."""
        row = {**record.to_dict(), "failed_at": _as_datetime(record.failed_at)}
        tags = {tag[:TAG_LENGTH] for tag in tags_of(parse_payload(record.payload))}
        try:
            with self.engine.begin() as conn:
                inserted = conn.execute(insert(failed_jobs).values(**row)).inserted_primary_key
                assert inserted is not None
                row_id = inserted[0]
                _tag(conn, row_id, tags)
        except IntegrityError:
            with self.engine.begin() as conn:
                conn.execute(update(failed_jobs).where(c.uuid == row["uuid"]).values(**row))
                row_id = conn.execute(select(c.id).where(c.uuid == row["uuid"])).scalar_one()
                conn.execute(delete(lq_failed_job_tags).where(t.failed_job_id == row_id))
                _tag(conn, row_id, tags)

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

    def search(
        self, criteria: FailedSearch, *, before: int | None = None, limit: int = 50
    ) -> list[FailedJob]:
        """Up to `limit` matching rows, newest first, with an id below `before` (the keyset
        cursor: the last id of the page before). The text conditions go to the database's
        text index and the tag to its own; the class and the tag are then checked exactly on
        the rows found. The rows are looked for in slices of ids, newest first (`_slices`),
        so that no database plans its way into reading every match to sort them."""
        query = select(failed_jobs).order_by(c.id.desc())
        for value in criteria.narrowing_texts:
            query = query.where(self.text_search.matching(value))
        if criteria.queue:
            query = query.where(c.queue == criteria.queue)
        if criteria.since is not None:
            query = query.where(c.failed_at >= criteria.since)
        if criteria.until is not None:
            query = query.where(c.failed_at <= criteria.until)
        if before is not None:
            query = query.where(c.id < before)
        chunk = limit if criteria.checked_exactly_only_in_sql else max(limit, EXACT_CHUNK)
        found: list[FailedJob] = []
        for ids in self._slices(criteria, before):
            cursor = None
            while len(found) < limit:
                page = query.where(ids) if cursor is None else query.where(ids, c.id < cursor)
                with self.engine.connect() as conn:
                    rows = conn.execute(page.limit(chunk)).all()
                found += [job for job in map(self._job, rows) if criteria.holds_for(job)]
                if len(rows) < chunk:
                    break  # this slice has no more
                cursor = rows[-1].id
            if len(found) >= limit:
                break
        return found[:limit]

    def _slices(self, criteria: FailedSearch, before: int | None) -> Iterator[Any]:
        """Conditions on the id, newest slice first, that together cover every candidate:
        - with a tag, the tagged rows' ids, a chunk at a time from the tag index (a tag is
          rarer than any text: planners that guess text selectivity badly start from it);
        - with text and no SQLite search table, windows of ids, each four times the one
          before: PostgreSQL's trigram index finds rare text at once, but for common text
          it fetches and rechecks every match to sort them, where the newest 2,000 rows
          already hold a page of them;
        - otherwise the whole table, in one slice (the primary key orders it)."""
        if criteria.tag:
            below = before
            while True:
                tagged = select(t.failed_job_id).where(t.tag == criteria.tag[:TAG_LENGTH])
                if below is not None:
                    tagged = tagged.where(t.failed_job_id < below)
                with self.engine.connect() as conn:
                    newest_first = tagged.order_by(t.failed_job_id.desc()).limit(TAG_CHUNK)
                    ids = conn.execute(newest_first).scalars().all()
                if not ids:
                    return
                yield c.id.in_(ids)
                below = ids[-1]
        elif criteria.narrowing_texts and not self.text_search.uses_fts:
            with self.engine.connect() as conn:
                lowest, highest = conn.execute(select(func.min(c.id), func.max(c.id))).one()
            if lowest is None:
                return
            end = highest + 1 if before is None else before
            window = FIRST_WINDOW
            while end > lowest:
                yield and_(c.id >= end - window, c.id < end)
                end, window = end - window, window * 4
        else:
            yield true()

    def find(self, id_or_uuid: int | str) -> FailedJob | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(failed_jobs).where(self._match(id_or_uuid))).first()
        return None if row is None else self._job(row)

    def forget(self, id_or_uuid: int | str) -> bool:
        with self.engine.begin() as conn:
            ids = conn.execute(select(c.id).where(self._match(id_or_uuid))).scalars().all()
            _untag(conn, ids)
            return conn.execute(delete(failed_jobs).where(c.id.in_(ids))).rowcount > 0

    def forget_rows(self, jobs: Iterable[FailedJob]) -> int:
        """Delete these rows unless they changed since they were read: a job that failed
        again meanwhile (same uuid, new failed_at) keeps its new record."""
        keys = [(job.id, job.failed_at) for job in jobs]
        if not keys:
            return 0
        with self.engine.begin() as conn:
            query = delete(failed_jobs).where(tuple_(c.id, c.failed_at).in_(keys))
            deleted = int(conn.execute(query).rowcount)
            _untag(conn, [job.id for job in jobs], only_orphans=True)
            return deleted

    def flush(self, hours: float | None = None) -> int:
        """Laravel: queue:flush — every row, or those failed at least `hours` ago."""
        query = delete(failed_jobs)
        if hours is not None:
            query = query.where(c.failed_at <= _cutoff(hours))
        with self.engine.begin() as conn:
            deleted = int(conn.execute(query).rowcount)
            conn.execute(delete(lq_failed_job_tags).where(t.failed_job_id.not_in(select(c.id))))
            return deleted

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
                _untag(conn, ids)
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

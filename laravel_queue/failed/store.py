"""`manager.failed`: record final failures durably; list, retry, forget, flush and prune them.

Laravel's `queue.failer` plus `queue:retry`/`queue:forget`/`queue:flush`/`queue:prune-failed`.
Recording never loses a failure: when the database cannot be written, the record goes to a
local spool file (fsynced before the message is acknowledged) and is moved into the table by
the next call that reaches the database — every method here, the worker's spool step, and
so every `lq failed*` command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from laravel_queue import events
from laravel_queue.connections.base import Connection
from laravel_queue.db.bounded import call_within, store_unavailable
from laravel_queue.db.spool import Spool
from laravel_queue.failed.replay import RetryReport, replay_message
from laravel_queue.failed.search import FailedSearch
from laravel_queue.messages.payload import JobMessage
from laravel_queue.messages.records import FailedJob, FailureRecord
from laravel_queue.status.store import StatusStore

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from laravel_queue.failed.repository import FailedJobRepository

logger = logging.getLogger("laravel_queue.failed")

# Rows published between two deletes: a crash in between re-publishes at most this many.
RETRY_CHUNK = 500


class FailedJobsHost(Protocol):
    """What the failed-jobs store needs of the manager above it (`QueueManager`)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def store_timeout(self) -> float: ...

    def ensure_schema(self) -> None: ...

    def connection(self, name: str | None = None) -> Connection: ...

    @property
    def status(self) -> StatusStore | None: ...


class FailedJobs:
    """Every final failure, recorded by `log` — the one function every place that records a
    failure calls: a job's run, a job task that broke before its run settled, the consumer
    for a message Celery cannot run, plain Celery tasks, a batch's unreadable callbacks."""

    def __init__(self, manager: FailedJobsHost, spool_path: Path) -> None:
        self.manager = manager
        self.spool = Spool(spool_path)

    @cached_property
    def _repository(self) -> FailedJobRepository:
        # The SQL driver loads on first use: a worker whose jobs never fail never needs it.
        from laravel_queue.failed.repository import FailedJobRepository

        self.manager.ensure_schema()  # raises while the database is down: not cached then
        return FailedJobRepository(self.manager.engine)

    @property
    def repository(self) -> FailedJobRepository:
        """The table, with any spooled failures moved into it first."""
        repository = self._repository
        self._drain()
        return repository

    def _drain(self) -> int:
        if not self.spool.pending():
            return 0
        moved = self.spool.drain(
            lambda data: self._write(FailureRecord(**data)), unavailable=store_unavailable
        )
        logger.warning("moved %d spooled failures into failed_jobs", moved)
        return moved

    def _write(self, record: FailureRecord) -> None:
        """One bounded write: `StoreTimeoutError` after `manager.store_timeout` seconds."""
        call_within(
            self.manager.store_timeout,
            lambda: self._repository.write(record),
            "the failed-jobs database",
        )

    # -- recording ---------------------------------------------------------------------------

    def log(self, message: JobMessage, exception: BaseException | str) -> None:
        """Write the failure, or spool it if the database cannot be written right now.

        Bounded in time: a database that does not answer within `store_timeout` seconds
        gets the record spooled, well before the job's hard time limit. Whatever stops the
        write (an error, a timeout, the job's own soft time limit arriving meanwhile), the
        record is in the table or in the spool when this returns or raises.
        """
        record = FailureRecord.of(message, exception)
        try:
            self._write(record)
        except BaseException as exc:
            self.spool.append(record.to_dict())
            logger.warning(
                "failed_jobs cannot be written (%s); %s spooled to %s until it can",
                f"{type(exc).__name__}: {exc}",
                record.uuid,
                self.spool.path,
            )
            if not isinstance(exc, Exception):
                raise

    def drain_spool(self) -> int:
        """Move spooled failures into the table; 0 while the database is still down."""
        try:
            return self._drain()
        except Exception:
            return 0

    # -- reading and deleting (Laravel: queue:failed, queue:forget, queue:flush, prune) -------

    def all(
        self,
        queue: str | None = None,
        connection: str | None = None,
        limit: int | None = None,
        tag: str | None = None,
    ) -> list[FailedJob]:
        """Newest first; for many rows prefer `iterate`, which reads in chunks."""
        return list(self.iterate(queue=queue, connection=connection, limit=limit, tag=tag))

    def iterate(
        self,
        queue: str | None = None,
        connection: str | None = None,
        limit: int | None = None,
        tag: str | None = None,
    ) -> Iterator[FailedJob]:
        """Newest first; with `tag`, only the jobs dispatched with that tag (read from each
        row's message, chunk by chunk, as Horizon finds failed jobs by tag)."""
        if tag is None:
            return self.repository.iterate(queue=queue, connection=connection, limit=limit)
        rows = self.repository.iterate(queue=queue, connection=connection)
        return islice((job for job in rows if tag in job.tags), limit)

    def search(
        self, criteria: FailedSearch, *, before: int | None = None, limit: int = 50
    ) -> list[FailedJob]:
        """A page of the rows matching `criteria`, newest first; the next page is the one
        `before` the last id of this one (keyset pagination: as fast on the thousandth page
        as on the first)."""
        return self.repository.search(criteria, before=before, limit=limit)

    def find(self, id_or_uuid: int | str) -> FailedJob | None:
        """By the row's id or the job's uuid."""
        return self.repository.find(id_or_uuid)

    def forget(self, id_or_uuid: int | str) -> bool:
        return self.repository.forget(id_or_uuid)

    def flush(self, hours: float | None = None) -> int:
        return self.repository.flush(hours)

    def prune(self, hours: float = 24) -> int:
        return self.repository.prune(hours)

    def count(self, queue: str | None = None) -> int:
        return self.repository.count(queue)

    # -- retrying (Laravel: queue:retry) -----------------------------------------------------

    def retry(
        self,
        ids: Iterable[int | str] | None = None,
        *,
        queue: str | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> RetryReport:
        """Publish failed jobs again and delete their rows: the given ids (row id or uuid), or
        every row (of `queue`) when `ids` is None. Each gets `JobRetryRequested` first, goes
        to its original connection and queue with the same uuid, attempts reset and
        `retry_until` recomputed. Rows are read and published in chunks, so any number of
        them uses constant memory; `on_progress(n)` is called as each chunk is done.
        """
        report = RetryReport()
        repository = self.repository
        if ids is None:
            rows: Iterator[FailedJob] = repository.iterate(queue=queue, oldest_first=True)
        else:
            rows = self._find_each(repository, ids, queue, report)
        while chunk := list(islice(rows, RETRY_CHUNK)):
            self._retry_chunk(repository, chunk, report)
            if on_progress is not None:
                on_progress(len(chunk))
        return report

    def retry_matching(self, criteria: FailedSearch) -> RetryReport:
        """`retry` for every row matching `criteria` (the dashboard's "retry all matching"),
        read and published a chunk at a time."""
        report = RetryReport()
        repository = self.repository
        before: int | None = None
        while chunk := repository.search(criteria, before=before, limit=RETRY_CHUNK):
            self._retry_chunk(repository, chunk, report)
            before = chunk[-1].id
        return report

    def _find_each(
        self,
        repository: FailedJobRepository,
        ids: Iterable[int | str],
        queue: str | None,
        report: RetryReport,
    ) -> Iterator[FailedJob]:
        for id_or_uuid in ids:
            job = repository.find(id_or_uuid)
            if job is None or (queue is not None and job.queue != queue):
                report.missing.append(str(id_or_uuid))
            else:
                yield job

    def _retry_chunk(
        self, repository: FailedJobRepository, chunk: list[FailedJob], report: RetryReport
    ) -> None:
        by_connection: dict[str, list[JobMessage]] = {}
        published: list[FailedJob] = []
        for job in chunk:
            try:
                connection = self.manager.connection(job.connection)
                message = replay_message(job)
            except Exception as exc:  # NotRetryableError, an unknown connection, bad state
                report.refuse(job, str(exc))
                continue
            events.dispatch(events.JobRetryRequested(job))
            by_connection.setdefault(connection.name, []).append(message)
            published.append(job)
        for name, messages in by_connection.items():
            self.manager.connection(name).publish_many(messages)
            if self.manager.status is not None:
                requeued = [
                    (m.lq.uuid, m.lq.display_name, m.queue, m.lq.batch_id, 0.0, m.lq.tags)
                    for m in messages
                    if m.lq is not None
                ]
                self.manager.status.requeued(name, requeued)
        # Publish, then delete: a crash in between publishes these again on the next retry
        # rather than losing them. A row that failed again meanwhile has a new failed_at and
        # is kept.
        repository.forget_rows(published)
        report.retried += len(published)

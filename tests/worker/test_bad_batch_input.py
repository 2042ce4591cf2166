"""One bad message or one bad row never holds up the batches behind it: a `batch_id` of the
wrong type fails its own message at the door, a spooled count that can never be applied is
set aside, and a `job_batches` row whose JSON cannot be read is listed as such and ends with
a recorded reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import text

from laravel_queue import Bus, QueueManager
from laravel_queue.bus.batch_outcomes import BATCH_CALLBACKS_TASK, drain_spooled_counts
from laravel_queue.connections.celery import CeleryConnection
from laravel_queue.db.spool import Spool
from laravel_queue.jobs.registry import task_name
from laravel_queue.worker.batch_counts import BatchCallbacks

from .. import jobs
from ..cli.support import run_lq
from ..support import ServiceUrls, lines, wait_until, worker


@pytest.fixture
def pg_manager(redis_urls: ServiceUrls, postgres_url: str, lq_home: Path) -> Iterator[QueueManager]:
    """Redis broker and cache, PostgreSQL store: where `12345 = 'uuid'` is an error."""
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, cache_url=redis_urls.cache, database_url=postgres_url)
    yield manager
    manager.close()


def test_a_numeric_batch_id_fails_its_message_and_the_batch_behind_it_finishes(
    pg_manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    """On PostgreSQL the count failed (`character varying = smallint`), was spooled, and the
    spool stopped at it for good: a good batch queued behind stayed at pending 3."""
    connection = pg_manager.connection()
    assert isinstance(connection, CeleryConnection)
    good = connection._message(jobs.Traced(str(trace), "numeric"), "default", None)
    lq = {**good.headers["lq"], "batch_id": 12345}  # as another program might send it
    pg_manager.app.send_task(
        good.task, kwargs=good.kwargs, task_id=good.id, queue="default", headers={"lq": lq}
    )
    batch = (
        Bus.batch([jobs.Traced(str(trace), n) for n in "abc"])
        .then(jobs.batch_then)
        .name("behind")
        .dispatch()
    )
    with worker(pg_manager):
        wait_until(lambda: "then behind" in " ".join(lines(callback_trace)), timeout=30)
        wait_until(lambda: pg_manager.failed.count() == 1)
    [row] = pg_manager.failed.all()
    assert row.uuid == good.id
    assert "batch_id = 12345 (expected a string or null)" in row.exception
    assert "numeric" not in " ".join(lines(trace))  # refused before it ran
    done = batch.fresh()
    assert (done.pending_jobs, done.failed_jobs) == (0, 0) and done.finished()
    assert not Spool(pg_manager.batch_spool).pending()


def test_a_spooled_count_that_cannot_be_applied_is_set_aside_and_the_rest_counted(
    pg_manager: QueueManager,
) -> None:
    batch = Bus.batch([jobs.Traced("/dev/null", n) for n in "ab"]).dispatch()
    spool = Spool(pg_manager.batch_spool)
    spool.append({"batch_id": 12345, "job_uuid": "poison", "failure": None})
    for uuid in ("u1", "u2"):  # the batch's two jobs, counted as if they had run
        spool.append({"batch_id": batch.id, "job_uuid": uuid, "failure": None})
    assert drain_spooled_counts(pg_manager) == 2
    assert batch.fresh().pending_jobs == 0
    [aside] = spool.set_aside()
    assert aside.record["batch_id"] == 12345 and not spool.pending()
    listed = run_lq(pg_manager, "spool")
    assert listed.exit_code == 0 and "12345" in listed.output, listed.output


def test_a_batch_row_whose_options_cannot_be_read_ends_with_a_recorded_reason(
    sqlite_manager: QueueManager, trace: Path, callback_trace: Path
) -> None:
    """Garbage in `options`: the count was committed, reading the row back failed, the
    worker said "cannot be counted … spooled", `then` never fired, the batch never finished,
    and `lq batches` exited 1 with a JSONDecodeError, hiding every other batch."""
    other = Bus.batch([jobs.Traced(str(trace), "other")]).name("fine").dispatch()
    broken = (
        Bus.batch([jobs.Traced(str(trace), n) for n in "ab"])
        .then(jobs.batch_then)
        .name("broken")
        .dispatch()
    )
    options = _set_options(sqlite_manager, broken.id, "{not json")
    with worker(sqlite_manager):
        wait_until(lambda: sqlite_manager.failed.count() == 1, timeout=30)
        wait_until(lambda: other.fresh().finished(), timeout=30)
    assert broken.fresh().finished() and broken.fresh().pending_jobs == 0
    [row] = sqlite_manager.failed.all()
    assert row.name == BATCH_CALLBACKS_TASK == task_name(BatchCallbacks)
    assert "BatchUnreadableError" in row.exception and "options column is not JSON" in row.exception
    assert lines(callback_trace) == []  # `then` could not run: its spec is in the bad row

    listed = run_lq(sqlite_manager, "batches")
    assert listed.exit_code == 0, listed.output
    assert "unreadable" in listed.output and other.id in listed.output
    shown = run_lq(sqlite_manager, "batches:show", broken.id)
    assert shown.exit_code == 0 and "options column is not JSON" in shown.output

    _set_options(sqlite_manager, broken.id, options)  # fixed by hand: the callbacks can run
    assert run_lq(sqlite_manager, "failed:retry", row.uuid).exit_code == 0
    with worker(sqlite_manager):
        wait_until(lambda: "then broken" in " ".join(lines(callback_trace)), timeout=30)


def _set_options(manager: QueueManager, batch_id: str, options: str) -> str:
    """Write `options` into the batch's row; returns what was there."""
    with manager.engine.begin() as db:
        before = db.execute(
            text("SELECT options FROM job_batches WHERE id = :id"), {"id": batch_id}
        ).scalar_one()
        db.execute(
            text("UPDATE job_batches SET options = :o WHERE id = :id"),
            {"o": options, "id": batch_id},
        )
    return str(before)

"""Searching failed_jobs on SQLite, PostgreSQL and MariaDB: by any text, class, queue, tag
and time, a page at a time, with each database's index kept in step with the table."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, text, update

from laravel_queue.db.engine import make_engine
from laravel_queue.db.migrate import _config, migrate
from laravel_queue.db.schema import failed_jobs, lq_failed_job_tags
from laravel_queue.db.search import FTS_TABLE, TRIGRAM_INDEX
from laravel_queue.failed import repository as failed_repository
from laravel_queue.failed.repository import FailedJobRepository
from laravel_queue.failed.search import FailedSearch
from laravel_queue.messages.payload import HEADER, JobMessage
from laravel_queue.messages.records import FailureRecord


def record(
    uuid: str,
    why: str = "card declined",
    job: str = "shop.Charge",
    queue: str = "default",
    tags: list[str] | None = None,
    hours_ago: float = 0.0,
) -> FailureRecord:
    header = {"display_name": job, "tags": tags or []}
    message = JobMessage(
        task=job, id=uuid, kwargs={}, queue=queue, connection="c", headers={HEADER: header}
    )
    failure = FailureRecord.of(message, f"ValueError: {why}")
    return replace(failure, failed_at=time.time() - hours_ago * 3600)


def uuids(repository: FailedJobRepository, **criteria: object) -> list[str]:
    found = repository.search(FailedSearch(**criteria))  # type: ignore[arg-type]
    return [job.uuid for job in found]


def test_text_matches_the_exception_class_queue_and_tags_case_insensitively(
    repository: FailedJobRepository,
) -> None:
    repository.write(record("a", why="Card DECLINED by bank"))
    repository.write(record("b", why="timeout", job="mail.SendInvoice", queue="mail"))
    repository.write(record("c", why="timeout", tags=["Customer:42"]))
    assert uuids(repository, text="declined") == ["a"]
    assert uuids(repository, text="sendinvoice") == ["b"]
    assert uuids(repository, text="customer:42") == ["c"]
    assert uuids(repository, text="timeout") == ["c", "b"]  # newest first
    assert uuids(repository, text="nothing like it") == []


def test_short_and_special_text_is_matched_literally(repository: FailedJobRepository) -> None:
    """Under three characters the trigram index cannot help (a scan), and %, _ and quotes are
    text to find, not patterns or query syntax."""
    repository.write(record("a", why='100% "sure" a_b'))
    repository.write(record("b", why="100 percent"))
    assert uuids(repository, text="%") == ["a"]
    assert uuids(repository, text="a_b") == ["a"]
    assert uuids(repository, text='"sure"') == ["a"]
    assert uuids(repository, text="10") == ["b", "a"]


def test_class_queue_tag_and_time_narrow_exactly(repository: FailedJobRepository) -> None:
    repository.write(record("old", hours_ago=5))
    repository.write(record("charge", tags=["Customer:4"]))
    repository.write(record("charges", job="shop.ChargeAll", tags=["Customer:42"]))
    repository.write(record("mail", job="shop.Charge", queue="mail"))
    assert uuids(repository, job="shop.Charge") == ["mail", "charge", "old"]
    assert uuids(repository, tag="Customer:4") == ["charge"]  # not Customer:42
    assert uuids(repository, queue="mail") == ["mail"]
    an_hour_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    assert "old" not in uuids(repository, since=an_hour_ago)
    assert uuids(repository, until=an_hour_ago) == ["old"]


@pytest.mark.parametrize("first_window", [2000, 2])
def test_pages_follow_each_other_by_the_last_id(
    repository: FailedJobRepository, first_window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also when the ids are searched in windows (2, then 8, 32...: without SQLite's search
    table), a window ending in the middle of a page."""
    monkeypatch.setattr(failed_repository, "FIRST_WINDOW", first_window)
    for n in range(25):
        repository.write(record(f"j{n:02d}", why="declined" if n % 2 else "timeout"))
    pages: list[list[str]] = []
    before = None
    while page := repository.search(FailedSearch(text="declined"), before=before, limit=5):
        pages.append([job.uuid for job in page])
        before = page[-1].id
    assert [len(page) for page in pages] == [5, 5, 2]
    assert [uuid for page in pages for uuid in page] == [f"j{n:02d}" for n in range(23, 0, -2)]


def test_the_index_follows_updates_and_deletes_made_by_anyone(
    repository: FailedJobRepository,
) -> None:
    """SQLite's search table is kept by triggers, so rows changed by another program (a PHP
    app sharing the table, a hand-written DELETE) are found, or not, as they now are."""
    repository.write(record("a", why="declined"))
    repository.write(record("b", why="declined"))
    with repository.engine.begin() as conn:
        conn.execute(
            update(failed_jobs)
            .where(failed_jobs.c.uuid == "a")
            .values(exception="ValueError: timeout")
        )
        conn.execute(delete(failed_jobs).where(failed_jobs.c.uuid == "b"))
    assert uuids(repository, text="declined") == []
    assert uuids(repository, text="timeout") == ["a"]
    repository.write(replace(record("a"), exception="ValueError: declined again"))
    assert uuids(repository, text="again") == ["a"]


def test_each_database_has_its_index(repository: FailedJobRepository) -> None:
    dialect = repository.engine.dialect.name
    if dialect == "sqlite":
        assert repository.text_search.uses_fts
    with repository.engine.connect() as conn:
        if dialect == "sqlite":
            found = conn.execute(
                text("SELECT name FROM sqlite_master WHERE name = :n"), {"n": FTS_TABLE}
            ).scalar()
            assert found == FTS_TABLE
        elif dialect == "postgresql":
            found = conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE indexname = :n"), {"n": TRIGRAM_INDEX}
            ).scalar()
            assert found == TRIGRAM_INDEX
        else:
            pytest.skip(f"{dialect} searches with a scan: there is no index to look for")


def test_rows_failed_before_the_search_indexes_are_found_after_the_upgrade(
    database_url: str,
) -> None:
    """`lq migrate` from 0.1's schema (revision 0002) tags and indexes the rows already
    there."""
    engine = make_engine(database_url)
    try:
        config = _config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0002")
        with engine.begin() as conn:  # what the repository of 0.1 wrote: the row alone
            conn.execute(
                insert(failed_jobs).values(
                    **{
                        **record("old", why="declined", tags=["Customer:4"]).to_dict(),
                        "failed_at": datetime.now(timezone.utc).replace(tzinfo=None),
                    }
                )
            )
        migrate(engine)
        upgraded = FailedJobRepository(engine)
        assert uuids(upgraded, tag="Customer:4") == ["old"]
        assert uuids(upgraded, text="declined") == ["old"]
    finally:
        engine.dispose()


def test_tags_go_with_their_rows(repository: FailedJobRepository) -> None:
    repository.write(record("a", tags=["Customer:4"]))
    repository.write(record("b", tags=["Customer:4"]))
    repository.write(replace(record("a", tags=["Customer:5"])))  # failed again, new tags
    assert uuids(repository, tag="Customer:4") == ["b"]
    assert uuids(repository, tag="Customer:5") == ["a"]
    assert repository.forget("b")
    repository.flush()
    with repository.engine.connect() as conn:
        assert conn.execute(select(lq_failed_job_tags)).all() == []


def test_a_tag_s_rows_page_through_the_tag_index_a_chunk_at_a_time(
    repository: FailedJobRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failed_repository, "TAG_CHUNK", 2)
    for n in range(9):
        repository.write(record(f"j{n}", why="declined" if n % 3 else "timeout", tags=["T:1"]))
    search = FailedSearch(text="declined", tag="T:1")
    first = repository.search(search, limit=3)
    rest = repository.search(search, before=first[-1].id, limit=3)
    assert [job.uuid for job in first + rest] == ["j8", "j7", "j5", "j4", "j2", "j1"]

"""`lq migrate`: versioned, idempotent, and safe beside a project's own Alembic history."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import inspect, text

from laravel_queue.db.engine import make_engine
from laravel_queue.db.migrate import current_revision, head_revision, migrate
from laravel_queue.db.schema import CACHE_EXPIRY_INDEX, VERSION_TABLE, lq_cache, metadata

from ..support import lq


def test_migrate_creates_the_tables_once(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert migrate(engine) is True
        assert migrate(engine) is False
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        expected = {"failed_jobs", "lq_cache", "lq_delayed_jobs", "job_batches", "lq_batch_jobs"}
        assert expected | {VERSION_TABLE} <= tables
        assert "alembic_version" not in tables  # a project's own history stays its own
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("failed_jobs")}
        assert "failed_jobs_connection_queue_failed_at_index" in indexes
    finally:
        engine.dispose()


def test_an_older_database_gets_the_cache_expiry_index(database_url: str) -> None:
    """A database migrated by 0.x (revision 0003) has `lq_cache` without the index 0004 adds."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        [index] = [ix for ix in lq_cache.indexes if ix.name == CACHE_EXPIRY_INDEX]
        with engine.begin() as conn:
            index.drop(conn)
            conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0003'"))
        assert migrate(engine) is True
        assert current_revision(engine) == head_revision()
        names = {ix["name"] for ix in inspect(engine).get_indexes("lq_cache")}
        assert CACHE_EXPIRY_INDEX in names
    finally:
        engine.dispose()


def test_concurrent_migrations_from_several_processes_all_succeed(database_url: str) -> None:
    """Eight processes start migrating at the same instant: on MySQL/MariaDB, where each DDL
    statement commits on its own, the losers used to find the version row already moved."""
    script = (
        "import sys, time; from laravel_queue.db.engine import make_engine; "
        "from laravel_queue.db.migrate import migrate; engine = make_engine(sys.argv[1]); "
        "engine.connect().close(); time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
        "migrate(engine)"
    )
    start_at = str(time.time() + 2)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, database_url, start_at], stderr=subprocess.PIPE
        )
        for _ in range(8)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_the_metadata_is_exported_for_a_projects_own_alembic() -> None:
    assert {"failed_jobs", "lq_cache", "lq_delayed_jobs"} <= set(metadata.tables)


def test_lq_migrate_on_the_default_sqlite_file(lq_home: Path) -> None:
    first = lq("migrate", env={"LQ_HOME": str(lq_home)})
    output = first.communicate(timeout=60)[0]
    assert "using the embedded SQLite default" in output  # no --app: said, not silent
    assert "Tables migrated in sqlite:///" in output
    second = lq("migrate", env={"LQ_HOME": str(lq_home)})
    assert "already up to date" in second.communicate(timeout=60)[0]
    assert second.returncode == 0

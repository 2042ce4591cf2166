"""Bring a database up to the newest schema (`lq migrate`; also done on first use)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Alembic logs "Context impl SQLiteImpl." and "Will assume non-transactional DDL." at INFO on
# every migration check, and seven "setup plugin alembic.*" lines when it is imported: they
# landed in every worker's log. Set before the import below; its warnings still show.
for _chatty in ("alembic.runtime.migration", "alembic.runtime.plugins"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from alembic.util.exc import CommandError  # noqa: E402
from sqlalchemy import Connection, Engine, text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from laravel_queue.db.schema import VERSION_TABLE  # noqa: E402

SCRIPT_LOCATION = "laravel_queue.db:migrations"

# Alembic's `context` and `op` are module-level proxies: one migration per process at a time.
_lock = threading.Lock()

# Across processes, a database lock: MySQL/MariaDB commit every DDL statement on its own, so
# without one a second process runs the same step and finds the version row already moved.
LOCK_NAME = "laravel_queue.migrate"
LOCK_KEY = 7_245_913_551  # PostgreSQL advisory locks are keyed by a bigint
LOCK_TIMEOUT_SECONDS = 60


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def migrate(engine: Engine, attempts: int = 3) -> bool:
    """Upgrade to head; True if anything was applied. Safe to run from many processes: they
    take turns on a database lock (SQLite: its write lock), and one that still loses a race
    sees the tables on its next attempt."""
    if current_revision(engine) == head_revision():
        return False
    with _lock:
        return _upgrade(engine, attempts)


def _upgrade(engine: Engine, attempts: int) -> bool:
    config = _config()
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn, _database_lock(conn):
                if _revision(conn) == head_revision():
                    return False  # another process migrated while this one waited
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
            return True
        except (DBAPIError, CommandError):
            if current_revision(engine) == head_revision():
                return False  # another process migrated meanwhile
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
    return False


@contextmanager
def _database_lock(conn: Connection) -> Iterator[None]:
    """Hold the migration lock for the transaction; SQLite's BEGIN IMMEDIATE already is one."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        yield  # released when the transaction ends
    elif dialect in ("mysql", "mariadb"):
        got = conn.execute(
            text("SELECT GET_LOCK(:name, :timeout)"),
            {"name": LOCK_NAME, "timeout": LOCK_TIMEOUT_SECONDS},
        ).scalar()
        if got != 1:
            raise TimeoutError(f"another process held {LOCK_NAME!r} for {LOCK_TIMEOUT_SECONDS} s")
        try:
            yield
        finally:
            conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": LOCK_NAME})
    else:
        yield

"""SQLAlchemy engines for the store, made safe for several worker processes.

SQLite gets WAL and a busy timeout so workers and the dispatcher can write the same file at
once; a connection that sat idle is pinged before use so a database restart is survived; and
`dispose_after_fork` keeps forked pool children from sharing their parent's sockets.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from laravel_queue.urls import normalize_url

SQLITE_BUSY_TIMEOUT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 5
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "isolation_level": None}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # A database that does not answer must fail fast, so a failure goes to the spool instead
    # of holding the worker (psycopg and PyMySQL both take `connect_timeout`).
    engine = create_engine(
        url,
        pool_recycle=3600,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )
    event.listen(engine.pool, "checkout", _ping_if_idle)
    event.listen(engine.pool, "checkin", _note_last_use)
    return engine


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle longer than `PING_AFTER_IDLE_SECONDS`:
    a worker writing a batch count or a cache key per job would otherwise pay one more round
    trip per write (a third of a batch count on PostgreSQL). A connection that fails the ping
    is replaced (the pool retries the checkout); a database that went away within the idle
    window fails that one statement, which the store's callers already spool or retry."""
    if time.monotonic() - record.info.get("last_use", 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        # The ping opened a transaction (psycopg and PyMySQL begin one implicitly); end it,
        # or switching the connection to autocommit next would be refused.
        dbapi_connection.rollback()
    except Exception as exc:
        raise DisconnectionError(f"connection failed its ping: {exc}") from exc


def _note_last_use(_dbapi_connection: Any, record: Any) -> None:
    record.info["last_use"] = time.monotonic()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    # WAL is a property of the file: switch once. Asking again on every connection would
    # need a lock the other processes may be holding ("database is locked").
    try:
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass  # another process holds the file right now; it switches it (or already has)
    finally:
        cursor.close()


def use_wal(path: Path) -> None:
    """Put a SQLite file in WAL mode before any other process opens it. A file already in
    WAL mode is left alone: switching takes a lock that a process writing right then holds,
    and a scheduler started beside a busy one stopped at start-up on "database is locked"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)) as conn:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            pass  # another process holds the file right now: it is in use, so already WAL


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock when the transaction starts, so two read-then-write transactions
    # cannot deadlock on the upgrade from a shared to a write lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")

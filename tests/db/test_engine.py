"""Engines survive a database that dropped their connections: a connection idle past
`PING_AFTER_IDLE_SECONDS` is pinged, and replaced, before it is used."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from laravel_queue.db.engine import PING_AFTER_IDLE_SECONDS, make_engine

KILL = {
    "postgresql": "SELECT pg_terminate_backend(:pid)",
    "mysql": "KILL :pid",
}
BACKEND_PID = {
    "postgresql": "SELECT pg_backend_pid()",
    "mysql": "SELECT CONNECTION_ID()",
}


@pytest.fixture(params=["postgresql", "mariadb"])
def server_url(request: pytest.FixtureRequest) -> str:
    fixture = {"postgresql": "postgres_url", "mariadb": "mysql_url"}[request.param]
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


def _end_the_pooled_connection(engine: Engine, url: str) -> None:
    """The server ends the one connection in the engine's pool, as a restart would."""
    with engine.connect() as conn:
        pid = conn.execute(text(BACKEND_PID[engine.dialect.name])).scalar()
    killer = make_engine(url)
    with killer.connect() as conn:
        conn.execute(text(KILL[engine.dialect.name]), {"pid": pid})
        conn.commit()
    killer.dispose()


def test_a_connection_idle_past_the_window_is_pinged_and_replaced(server_url: str) -> None:
    engine = make_engine(server_url)
    try:
        _end_the_pooled_connection(engine, server_url)
        time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_within_the_window_a_dropped_connection_fails_once_then_is_replaced(
    server_url: str,
) -> None:
    """The instrument: without the ping the dead connection is used (the statement fails,
    which callers spool or retry), and the pool replaces it for the next one."""
    engine = make_engine(server_url)
    try:
        _end_the_pooled_connection(engine, server_url)
        time.sleep(0.1)
        with pytest.raises(DBAPIError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()

"""One INSERT-or-UPDATE (or INSERT-unless-there) statement per dialect (PostgreSQL, SQLite,
MySQL/MariaDB)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import mysql, postgresql, sqlite


def upsert(conn: Connection, table: Table, values: dict[str, Any], update: dict[str, Any]) -> None:
    """Insert `values`, or apply `update` to the row with the same primary key."""
    name = conn.dialect.name
    keys = [col.name for col in table.primary_key.columns]
    if name in ("mysql", "mariadb"):
        my = mysql.insert(table).values(**values)
        conn.execute(my.on_duplicate_key_update(**update))
    elif name == "postgresql":
        pg = postgresql.insert(table).values(**values)
        conn.execute(pg.on_conflict_do_update(index_elements=keys, set_=update))
    elif name == "sqlite":
        lite = sqlite.insert(table).values(**values)
        conn.execute(lite.on_conflict_do_update(index_elements=keys, set_=update))
    else:
        raise NotImplementedError(f"no upsert for the {name} dialect")


def insert_new(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert `values` unless a row with the same primary key exists; True if inserted. One
    statement, where catching the duplicate-key error needs a savepoint around the insert
    (two more round trips)."""
    return insert_new_rows(conn, table, [values]) == 1


def insert_new_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert each of `rows` whose primary key is not there yet; how many were inserted. The
    rows go as parameters of one statement (SQLAlchemy's "insertmanyvalues"), so it is
    compiled once whatever their number."""
    name = conn.dialect.name
    if name in ("mysql", "mariadb"):
        statement: Any = mysql.insert(table).prefix_with("IGNORE")
    elif name == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif name == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"no insert-unless-there for the {name} dialect")
    if conn.dialect.insert_executemany_returning:  # psycopg: no rowcount for DO NOTHING
        key = next(iter(table.primary_key.columns))
        return len(conn.execute(statement.returning(key), rows).all())
    return int(conn.execute(statement, rows).rowcount)

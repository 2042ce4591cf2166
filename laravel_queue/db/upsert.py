"""One INSERT-or-UPDATE statement per dialect (PostgreSQL, SQLite, MySQL/MariaDB)."""

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

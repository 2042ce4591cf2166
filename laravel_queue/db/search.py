"""Finding `failed_jobs` rows by a piece of their text, with the index each database has.

The searched text of a row is its queue, its payload (the job's class, tags and state) and its
exception. SQLite matches it through an FTS5 trigram table, PostgreSQL through a `pg_trgm`
GIN index on the same expression as the one searched; a database without either (MySQL,
MariaDB, or an index that could not be made) scans with `LIKE`. All three match a substring,
case-insensitively; SQLite's index needs three characters, so shorter text scans there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    inspect,
    literal_column,
    select,
    text,
)

from laravel_queue.db.schema import failed_jobs

FTS_TABLE = "lq_failed_jobs_search"
TRIGRAM_INDEX = "lq_failed_jobs_search_index"
# Written out once, used by the index and by the query alike: PostgreSQL uses an expression
# index only for the very same expression.
SEARCHED_SQL = "(queue || ' ' || payload || ' ' || exception)"
SHORTEST_INDEXED = 3  # an FTS5 trigram needs three characters

c = failed_jobs.c


def sqlite_has_trigram_fts(conn: Connection) -> bool:
    """FTS5 with the trigram tokenizer came with SQLite 3.34; builds may leave FTS5 out."""
    try:
        conn.execute(text("SELECT fts5_source_id()")).scalar()
    except Exception:
        return False
    version = conn.execute(text("SELECT sqlite_version()")).scalar_one()
    return tuple(int(part) for part in str(version).split(".")) >= (3, 34)


# MySQL and MariaDB read `||` as OR: they join the same columns with CONCAT_WS.
MYSQL_SEARCHED_SQL = "CONCAT_WS(' ', queue, payload, exception)"
ESCAPE = "/"  # not a backslash: each dialect quotes that differently


def escape_like(value: str) -> str:
    for special in (ESCAPE, "%", "_"):
        value = value.replace(special, ESCAPE + special)
    return value


def _like(value: str, dialect: str) -> ColumnElement[bool]:
    joined = MYSQL_SEARCHED_SQL if dialect in ("mysql", "mariadb") else SEARCHED_SQL
    searched: ColumnElement[str] = literal_column(joined)
    return searched.ilike(f"%{escape_like(value)}%", escape=ESCAPE)


def _fts_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class TextSearch:
    """The condition matching rows whose searched text contains a value, for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._fts: bool | None = None

    @property
    def uses_fts(self) -> bool:
        if self._fts is None:
            self._fts = self.engine.dialect.name == "sqlite" and FTS_TABLE in set(
                inspect(self.engine).get_table_names()
            )
        return self._fts

    def matching(self, value: str) -> ColumnElement[bool]:
        if self.uses_fts and len(value) >= SHORTEST_INDEXED:
            index: ColumnElement[str] = literal_column(FTS_TABLE)
            found: Select[Any] = select(literal_column("rowid")).select_from(text(FTS_TABLE))
            return c.id.in_(found.where(index.op("MATCH")(_fts_phrase(value))))
        return _like(value, self.engine.dialect.name)

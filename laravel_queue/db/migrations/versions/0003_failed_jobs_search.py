"""Indexes for searching `failed_jobs`: by tag (`lq_failed_job_tags`, filled from the rows
already there), and by any text of the job or its exception.

SQLite: an FTS5 table with the trigram tokenizer, kept in step with `failed_jobs` by
triggers (so rows written by another program are found too). PostgreSQL: a trigram GIN index
(`pg_trgm`) on the searched text; where the extension cannot be created (a role without the
right), the search still works, scanning. MySQL/MariaDB: no index (a scan).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy import insert, select

from laravel_queue.db.migrations.tables import create_missing, drop
from laravel_queue.db.schema import failed_jobs, lq_failed_job_tags
from laravel_queue.db.search import (
    FTS_TABLE,
    SEARCHED_SQL,
    TRIGRAM_INDEX,
    sqlite_has_trigram_fts,
)
from laravel_queue.messages.records import parse_payload, tags_of

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

logger = logging.getLogger("laravel_queue")

TAG_CHUNK = 1000
TAG_LENGTH = 191

SQLITE_TRIGGERS = {
    "lq_failed_jobs_search_insert": f"""
        CREATE TRIGGER lq_failed_jobs_search_insert AFTER INSERT ON failed_jobs BEGIN
          INSERT INTO {FTS_TABLE}(rowid, queue, payload, exception)
          VALUES (new.id, new.queue, new.payload, new.exception);
        END""",
    "lq_failed_jobs_search_delete": f"""
        CREATE TRIGGER lq_failed_jobs_search_delete AFTER DELETE ON failed_jobs BEGIN
          INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, queue, payload, exception)
          VALUES ('delete', old.id, old.queue, old.payload, old.exception);
        END""",
    "lq_failed_jobs_search_update": f"""
        CREATE TRIGGER lq_failed_jobs_search_update AFTER UPDATE ON failed_jobs BEGIN
          INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, queue, payload, exception)
          VALUES ('delete', old.id, old.queue, old.payload, old.exception);
          INSERT INTO {FTS_TABLE}(rowid, queue, payload, exception)
          VALUES (new.id, new.queue, new.payload, new.exception);
        END""",
}


def upgrade() -> None:
    bind = op.get_bind()
    create_missing(lq_failed_job_tags)
    _tag_existing_rows()
    if bind.dialect.name == "sqlite":
        if not sqlite_has_trigram_fts(bind):
            logger.warning("SQLite has no FTS5 trigram tokenizer: failed-job search scans")
            return
        op.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(queue, payload, "
            "exception, content='failed_jobs', content_rowid='id', tokenize='trigram')"
        )
        for name, statement in SQLITE_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(statement)
        op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    elif bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:
            logger.warning("pg_trgm cannot be created (%s): failed-job search scans", exc)
            return
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON failed_jobs "
            f"USING gin (({SEARCHED_SQL}) gin_trgm_ops)"
        )


def _tag_existing_rows() -> None:
    """The tags of the rows failed before this revision, read a chunk of rows at a time."""
    bind = op.get_bind()
    c = failed_jobs.c
    last = 0
    while rows := bind.execute(
        select(c.id, c.payload).where(c.id > last).order_by(c.id).limit(TAG_CHUNK)
    ).all():
        tags = [
            {"tag": tag[:TAG_LENGTH], "failed_job_id": row.id}
            for row in rows
            for tag in set(tags_of(parse_payload(row.payload)))
        ]
        if tags:
            bind.execute(insert(lq_failed_job_tags), tags)
        last = rows[-1].id


def downgrade() -> None:
    bind = op.get_bind()
    drop(lq_failed_job_tags)
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")

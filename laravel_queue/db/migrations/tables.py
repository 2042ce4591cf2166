"""What the revisions do: create the tables they add unless they exist, drop them again.

A table that already exists is left alone: a PHP team sharing the database may already have
Laravel's `failed_jobs` or `job_batches`, which have the same columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_missing(*tables: sa.Table) -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in tables:
        if table.name not in existing:
            table.create(bind)


def drop(*tables: sa.Table) -> None:
    bind = op.get_bind()
    for table in reversed(tables):
        table.drop(bind, checkfirst=True)

"""failed_jobs (Laravel's columns), lq_cache and lq_delayed_jobs.

A table that already exists is left alone: a PHP team sharing the database may already have
Laravel's `failed_jobs`, which has the same columns.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from laravel_queue.db.schema import failed_jobs, lq_cache, lq_delayed_jobs

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (failed_jobs, lq_cache, lq_delayed_jobs)


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in TABLES:
        if table.name not in existing:
            table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind, checkfirst=True)

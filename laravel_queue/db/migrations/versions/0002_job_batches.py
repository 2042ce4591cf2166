"""job_batches (Laravel's columns) and lq_batch_jobs.

A table that already exists is left alone: a PHP team sharing the database may already have
Laravel's `job_batches`, which has the same columns.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from laravel_queue.db.schema import job_batches, lq_batch_jobs

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (job_batches, lq_batch_jobs)


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

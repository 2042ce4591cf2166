"""job_batches (Laravel's columns) and lq_batch_jobs.

A table that already exists is left alone: a PHP team sharing the database may already have
Laravel's `job_batches`, which has the same columns.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from laravel_queue.db.migrations.tables import create_missing, drop
from laravel_queue.db.schema import job_batches, lq_batch_jobs

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (job_batches, lq_batch_jobs)


def upgrade() -> None:
    create_missing(*TABLES)


def downgrade() -> None:
    drop(*TABLES)

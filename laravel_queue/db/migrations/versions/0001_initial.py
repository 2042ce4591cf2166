"""failed_jobs (Laravel's columns), lq_cache and lq_delayed_jobs.

A table that already exists is left alone: a PHP team sharing the database may already have
Laravel's `failed_jobs`, which has the same columns.

Revision ID: 0001
"""

from __future__ import annotations

from laravel_queue.db.migrations.tables import create_missing, drop
from laravel_queue.db.schema import failed_jobs, lq_cache, lq_delayed_jobs

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (failed_jobs, lq_cache, lq_delayed_jobs)


def upgrade() -> None:
    create_missing(*TABLES)


def downgrade() -> None:
    drop(*TABLES)

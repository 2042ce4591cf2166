"""An index on `lq_cache.expires_at`, so expired rows (job statuses, schedule claims, locks)
are found and deleted without reading the whole table.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from laravel_queue.db.schema import CACHE_EXPIRY_INDEX, lq_cache

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _has_index() -> bool:
    indexes = sa.inspect(op.get_bind()).get_indexes(lq_cache.name)
    return any(index["name"] == CACHE_EXPIRY_INDEX for index in indexes)


def upgrade() -> None:
    # A database created by this version already has it (0001 creates the table as declared).
    if not _has_index():
        op.create_index(CACHE_EXPIRY_INDEX, lq_cache.name, ["expires_at"])


def downgrade() -> None:
    if _has_index():
        op.drop_index(CACHE_EXPIRY_INDEX, lq_cache.name)

"""Alembic environment: runs on the connection `db.migrate` hands over.

The version is kept in `lq_alembic_version`, so a project's own Alembic history (in
`alembic_version`) and ours never meet.
"""

from __future__ import annotations

from alembic import context

from laravel_queue.db.schema import VERSION_TABLE, metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()

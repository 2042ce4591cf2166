"""`lq migrate`: run laravel_queue's migrations; safe to run any time (Laravel: migrate)."""

from __future__ import annotations

import click

from laravel_queue.cli.app import Context, cli
from laravel_queue.db.migrate import migrate as migrate_to_head


@cli.command("migrate")
@click.pass_obj
def migrate(ctx: Context) -> None:
    """Bring failed_jobs and the lq_* tables to the newest schema (idempotent)."""
    manager = ctx.manager
    applied = migrate_to_head(manager.engine)
    state = "migrated" if applied else "already up to date"
    click.echo(f"Tables {state} in {manager.mask(manager.database_url)}.")

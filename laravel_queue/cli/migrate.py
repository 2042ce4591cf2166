"""`lq migrate`: create laravel_queue's tables; safe to run any time."""

from __future__ import annotations

import click

from . import Context, cli


@cli.command("migrate")
@click.pass_obj
def migrate(ctx: Context) -> None:
    """Create the failed_jobs and lq_* tables if they do not exist."""
    manager = ctx.manager
    manager.ensure_schema()
    click.echo(f"Tables ready in {manager.mask(manager.database_url)}.")

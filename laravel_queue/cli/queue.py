"""`lq queue:size`, `lq queue:clear` (Laravel: queue:monitor sizes, queue:clear)."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from .app import Context, cli


def split_target(target: str) -> tuple[str | None, str]:
    """`connection:queue` or `queue` (the default connection)."""
    connection, _, queue = target.rpartition(":")
    return (connection or None), queue


@cli.command("queue:size")
@click.argument("queues", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def queue_size(ctx: Context, queues: tuple[str, ...], as_json: bool) -> None:
    """Pending, delayed and reserved jobs per queue (default: the "default" queue)."""
    ctx.exit_if_nothing_to_read()
    rows = []
    for target in queues or (ctx.manager.default_queue,):
        name, queue = split_target(target)
        connection = ctx.manager.connection(name)
        pending = connection.pending_size(queue)
        delayed = connection.delayed_size(queue)
        reserved = connection.reserved_size(queue)
        rows.append(
            {
                "connection": connection.name,
                "queue": queue,
                "pending": pending,
                "delayed": delayed,
                "reserved": reserved,
                "size": pending + delayed + reserved,
            }
        )
    if as_json:
        click.echo(json.dumps(rows))
        return
    table = Table("Connection", "Queue", "Size", "Pending", "Delayed", "Reserved")
    for row in rows:
        table.add_row(
            *(
                str(row[k])
                for k in ("connection", "queue", "size", "pending", "delayed", "reserved")
            )
        )
    Console().print(table)


@cli.command("queue:clear")
@click.argument("target", default="default")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def queue_clear(ctx: Context, target: str, force: bool) -> None:
    """Delete every pending and delayed job of a queue."""
    name, queue = split_target(target)
    connection = ctx.manager.connection(name)
    if not force:
        click.confirm(f"Delete all jobs of {connection.name}:{queue}?", abort=True)
    click.echo(f"Cleared {connection.clear(queue)} jobs from {connection.name}:{queue}.")

"""`lq spool`, `lq spool:retry`: what waits in the local spools, and the records set aside.

While a database cannot be written, failures and batch counts wait in local files beside the
embedded store (`.lq/`), and the worker writes them once it answers. A record that can never
be written as it is (a batch id of the wrong type, say) is set aside instead of blocking the
records behind it: these commands show such records, and put them back to be tried again once
what made them fail is fixed. Laravel has no spool (it loses a failure it cannot write).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from laravel_queue.cli.app import Context, cli
from laravel_queue.db.spool import Spool
from laravel_queue.manager import QueueManager


def spools(manager: QueueManager) -> dict[str, Spool]:
    return {"failed": manager.failed.spool, "batch": Spool(manager.batch_spool)}


@cli.command("spool")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per line).")
@click.pass_obj
def show_spool(ctx: Context, as_json: bool) -> None:
    """List the spooled records a drain set aside (they cannot be written as they are)."""
    ctx.exit_if_nothing_to_read()
    found = [
        (name, spool, entry)
        for name, spool in spools(ctx.manager).items()
        for entry in spool.set_aside()
    ]
    if as_json:
        for name, spool, entry in found:
            row = {"spool": name, "file": str(spool.set_aside_path), **asdict(entry)}
            click.echo(json.dumps(row, default=str))
        return
    console = Console()
    for name, spool in spools(ctx.manager).items():
        waiting = "records waiting for the database" if spool.pending() else "empty"
        console.print(f"{name} spool {escape(str(spool.path))}: {waiting}")
    if not found:
        console.print("No spooled record was set aside.")
        return
    table = Table("Spool", "Set aside at", "Reason", "Record")
    for name, _, entry in found:
        at = datetime.fromtimestamp(entry.at).isoformat(sep=" ", timespec="seconds")
        record = json.dumps(entry.record, default=str)
        table.add_row(name, at, escape(entry.reason), escape(record))
    console.print(table)


@cli.command("spool:retry")
@click.pass_obj
def retry_spool(ctx: Context) -> None:
    """Put the set-aside records back in their spools; the worker (or any `lq failed`
    command) writes them again."""
    ctx.exit_if_nothing_to_change()
    restored = {name: spool.restore_set_aside() for name, spool in spools(ctx.manager).items()}
    for name, count in restored.items():
        click.echo(f"{count} record(s) put back in the {name} spool.")

"""`lq workers`, `workers:scale`, `workers:prune`: the workers as their heartbeats show them,
and their pools grown or shrunk through Celery's remote control (Horizon's `horizon:status`
and scaling, for any broker)."""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from laravel_queue.cli.app import Context, cli
from laravel_queue.worker.heartbeat import STALE_AFTER_SECONDS, WorkerRegistry, WorkerStatus
from laravel_queue.worker.scaling import scale_workers

WIDE_COLUMNS = 120
NARROW_COLUMNS = ("Name", "Queues", "Pool", "Active", "Beat", "")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


stale_option = click.option(
    "--stale",
    type=float,
    default=STALE_AFTER_SECONDS,
    show_default=True,
    help="Seconds without a heartbeat after which a worker counts as unhealthy (dead).",
)


@cli.command("workers")
@stale_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def workers(ctx: Context, stale: float, as_json: bool) -> None:
    """Every worker: name, host, pid, queues, pool, active jobs, processed, uptime, heartbeat."""
    ctx.exit_if_nothing_to_read()
    now = time.time()
    found = WorkerRegistry(ctx.manager.cache).all()
    if as_json:
        rows = [{**asdict(s), "healthy": s.healthy(stale, now)} for s in found]
        click.echo(json.dumps(rows))
        return
    if not found:
        click.echo("No workers have reported a heartbeat.")
        return
    console = Console()
    rows = [_cells(status, stale, now) for status in found]
    shown = [c for c in rows[0] if console.width >= WIDE_COLUMNS or c in NARROW_COLUMNS]
    table = _table(rows, shown)
    if _fits(table, rows, shown, console.width):
        console.print(table)
        return
    for cells in rows:  # too narrow for a table: a block per worker, nothing cut
        console.print(f"[bold]{cells['Name']}[/bold]  {cells['']}")
        console.print(f"  queues: {cells['Queues']}")
        console.print(f"  pool: {cells['Pool']}  active: {cells['Active']}  beat: {cells['Beat']}")


def _cells(status: WorkerStatus, stale: float, now: float) -> dict[str, str]:
    return {
        "Name": status.name,
        "Host": status.hostname,
        "PID": str(status.pid),
        "Queues": ", ".join(status.queues),
        "Pool": f"{status.pool} x{status.concurrency}",
        "Active": str(status.active),
        "Done": str(status.processed),
        "Up": _duration(now - status.started_at),
        "Beat": f"{status.age(now):.0f}s ago",
        "": "[green]ok[/green]" if status.healthy(stale, now) else "[red]unhealthy[/red]",
    }


WHOLE = ("Name", "")  # never wrapped: the worker's name and its health


def _table(rows: list[dict[str, str]], shown: list[str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    for column in shown:
        table.add_column(column, no_wrap=column in WHOLE)
    for cells in rows:
        table.add_row(*(cells[column] for column in shown))
    return table


def _fits(table: Table, rows: list[dict[str, str]], shown: list[str], width: int) -> bool:
    """Whether `table`, drawn `width` columns wide, keeps every word of every cell whole (rich
    narrows a table by cutting columns, names included, once wrapping is not enough)."""
    out = io.StringIO()
    Console(width=width, file=out, color_system=None).print(table)
    tokens = set(out.getvalue().split())
    words = (w for cells in rows for c in shown for w in Text.from_markup(cells[c]).plain.split())
    return all(word in tokens for word in words)


@cli.command("workers:prune")
@stale_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def workers_prune(ctx: Context, stale: float, as_json: bool) -> None:
    """Forget workers that stopped sending heartbeats (killed, or their host is gone)."""
    ctx.exit_if_nothing_to_change()
    gone = WorkerRegistry(ctx.manager.cache).prune(stale)
    if as_json:
        click.echo(json.dumps({"forgotten": gone}))
        return
    for name in gone:
        click.echo(f"Forgot {name}.")
    click.echo(f"{len(gone)} stale worker(s) forgotten.")


@cli.command("workers:scale")
@click.argument("processes", type=click.IntRange(min=1))
@click.option("--worker", "names", multiple=True, help="Only this worker (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def workers_scale(ctx: Context, processes: int, names: tuple[str, ...], as_json: bool) -> None:
    """Grow or shrink each worker's pool to PROCESSES (Celery's pool_grow / pool_shrink)."""
    ctx.exit_if_nothing_to_change()
    changes = scale_workers(ctx.manager, processes, names)
    if as_json:
        click.echo(json.dumps([change.to_dict() for change in changes]))
        return
    for change in changes:
        click.echo(f"{change.name}: {change.before} -> {change.after} processes")
    if not changes:
        click.echo("No healthy workers to scale.")

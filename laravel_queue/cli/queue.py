"""`lq queue:size`, `lq queue:monitor`, `lq queue:jobs`, `lq queue:clear` (Laravel: Queue::size
and friends, queue:monitor, the inspection of 13.x, queue:clear)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from laravel_queue import events
from laravel_queue.cli.app import Context, cli, confirm
from laravel_queue.exceptions import NotInspectableError


def split_target(target: str) -> tuple[str | None, str]:
    """`connection:queue` or `queue` (the default connection)."""
    connection, _, queue = target.rpartition(":")
    return (connection or None), queue


def sizes(ctx: Context, target: str, now: float) -> dict[str, Any]:
    """One queue's sizes and the age of its oldest pending job (None when unknown)."""
    name, queue = split_target(target)
    connection = ctx.manager.connection(name)
    pending = connection.pending_size(queue)
    delayed = connection.delayed_size(queue)
    reserved = connection.reserved_size(queue)
    oldest = connection.oldest_pending_at(queue) if pending else None
    forwarded = connection.queue_name(queue)
    return {
        "connection": connection.name,
        "queue": queue,
        "forwarded_to": None if forwarded == queue else forwarded,
        "size": pending + delayed + reserved,
        "pending": pending,
        "delayed": delayed,
        "reserved": reserved,
        "oldest_pending_age": None if oldest is None else round(max(0.0, now - oldest), 3),
        "pending_by_priority": connection.pending_by_level(queue) if pending else None,
    }


def _label(row: dict[str, Any]) -> str:
    """The queue as asked for, and where it is forwarded (`Queue.forward`)."""
    forwarded = row["forwarded_to"]
    return str(row["queue"]) if forwarded is None else f"{row['queue']} -> {forwarded}"


def _by_priority(levels: dict[str, int] | None) -> list[tuple[str, int]]:
    """The levels with pending jobs, for a row of their own each under their queue's; none
    when only normal jobs wait (no job uses levels)."""
    if not levels or not any(n for level, n in levels.items() if level != "normal"):
        return []
    return [(level, n) for level, n in levels.items() if n]


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.0f}s"


@cli.command("queue:size")
@click.argument("queues", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def queue_size(ctx: Context, queues: tuple[str, ...], as_json: bool) -> None:
    """Pending, delayed and reserved jobs per queue (default: the "default" queue)."""
    ctx.exit_if_nothing_to_read()
    now = time.time()
    rows = [sizes(ctx, target, now) for target in queues or (ctx.manager.default_queue,)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    table = Table("Connection", "Queue", "Size", "Pending", "Delayed", "Reserved", "Oldest")
    for row in rows:
        counts = (str(row[k]) for k in ("size", "pending", "delayed", "reserved"))
        table.add_row(row["connection"], _label(row), *counts, _age(row["oldest_pending_age"]))
        for level, waiting in _by_priority(row["pending_by_priority"]):
            table.add_row("", f"  {level}", "", str(waiting), "", "", "", style="dim")
    Console().print(table)


@cli.command("queue:monitor")
@click.argument("targets")
@click.option(
    "--max",
    "max_jobs",
    type=int,
    default=1000,
    show_default=True,
    help="A queue with at least this many jobs is busy: QueueBusy fires for it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def queue_monitor(ctx: Context, targets: str, max_jobs: int, as_json: bool) -> None:
    """Sizes of comma-separated queues (`conn:queue,...`); fires QueueBusy for each one whose
    size is at or over --max, for your listeners to alert on (Laravel: queue:monitor).
    Always exits 0: run it from cron."""
    now = time.time()
    rows = [sizes(ctx, target, now) for target in targets.split(",") if target]
    for row in rows:
        row["busy"] = row["size"] >= max_jobs
        if row["busy"]:
            events.dispatch(events.QueueBusy(row["connection"], row["queue"], row["size"]))
    if as_json:
        click.echo(json.dumps(rows))
        return
    table = Table("Connection", "Queue", "Size", "Pending", "Delayed", "Reserved", "Oldest", "")
    for row in rows:
        counts = (str(row[k]) for k in ("size", "pending", "delayed", "reserved"))
        flag = "[red]BUSY[/red]" if row["busy"] else "[green]ok[/green]"
        table.add_row(
            row["connection"], _label(row), *counts, _age(row["oldest_pending_age"]), flag
        )
    Console().print(table)


@cli.command("queue:jobs")
@click.argument("target", default="default")
@click.option(
    "--state",
    type=click.Choice(["pending", "delayed", "reserved"]),
    default="pending",
    show_default=True,
    help="Waiting to run, waiting for their time, or taken by a worker.",
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def queue_jobs(ctx: Context, target: str, state: str, limit: int, as_json: bool) -> None:
    """The jobs of a queue (`conn:queue`), left where they are (Laravel 13: pendingJobs(),
    delayedJobs(), reservedJobs()). RabbitMQ cannot show pending or reserved ones."""
    ctx.exit_if_nothing_to_read()
    name, queue = split_target(target)
    connection = ctx.manager.connection(name)
    listing = {
        "pending": connection.pending_jobs,
        "delayed": connection.delayed_jobs,
        "reserved": connection.reserved_jobs,
    }[state]
    try:
        found = listing(queue, limit)
    except NotInspectableError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([asdict(job) for job in found]))
        return
    if not found:
        click.echo(f"No {state} jobs on {connection.name}:{queue}.")
        return
    table = Table()
    table.add_column("Job", no_wrap=True, min_width=36)  # whole, to copy into job:status
    table.add_column("Class", overflow="fold")
    table.add_column("Attempts")
    table.add_column("Due" if state == "delayed" else "Pushed")
    for job in found:
        when = job.available_at if state == "delayed" else job.pushed_at
        table.add_row(job.uuid or "-", job.name, str(job.attempts), _clock(when))
    Console().print(table)


def _clock(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at).strftime("%H:%M:%S")


@cli.command("queue:clear")
@click.argument("target", default="default")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def queue_clear(ctx: Context, target: str, force: bool, as_json: bool) -> None:
    """Delete every pending and delayed job of a queue."""
    ctx.exit_if_nothing_to_change()
    name, queue = split_target(target)
    connection = ctx.manager.connection(name)
    confirm(f"Delete all jobs of {connection.name}:{queue}?", force)
    cleared = connection.clear(queue)
    if as_json:
        click.echo(json.dumps({"connection": connection.name, "queue": queue, "cleared": cleared}))
        return
    click.echo(f"Cleared {cleared} jobs from {connection.name}:{queue}.")

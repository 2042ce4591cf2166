"""`lq schedule:work`, `schedule:run`, `schedule:list`, `schedule:test`, `schedule:pause`,
`schedule:resume` (Laravel: the artisan commands of the same names)."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import datetime
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from laravel_queue.cli.app import Context, cli
from laravel_queue.scheduling import Run, Schedule, ScheduledEvent, Scheduler

console = Console()

EXIT_NOT_FOUND = 1


def scheduler(ctx: Context) -> Scheduler:
    """The app's declared events (loading the app declares them), or a clear exit."""
    manager = ctx.manager
    declared = Schedule.events()
    if not declared:
        raise click.ClickException(
            "no scheduled events: declare them in the app module, e.g. "
            "Schedule.job(SendReports()).daily_at('02:00')"
        )
    return Scheduler(manager, declared)


def _said(run: Run) -> None:
    if run.outcome == "claimed elsewhere":  # another scheduler's: nothing happened here
        return
    when = datetime.fromtimestamp(run.due_at).strftime("%H:%M:%S")
    job = f" {run.job_id}" if run.job_id else ""
    click.echo(f"{when}  {run.event.description}  {run.outcome}{job}")


@cli.command("schedule:work")
@click.pass_obj
def schedule_work(ctx: Context) -> None:
    """Dispatch each scheduled event at its due times until stopped (any number may run)."""
    runner = scheduler(ctx)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"Running the schedule: {len(runner.events)} event(s). Ctrl-C stops.")
    runner.work(stop, on_run=_said)


@cli.command("schedule:run")
@click.pass_obj
def schedule_run(ctx: Context) -> None:
    """Dispatch what is due this minute (run it from a system cron every minute)."""
    runs = scheduler(ctx).run_minute()
    for run in runs:
        _said(run)
    if not runs:
        click.echo("No scheduled events are due.")


def _row(event: ScheduledEvent, now: float) -> dict[str, Any]:
    due = event.moment(event.next_due(now))
    return {
        "name": event.description,
        "expression": event.expression,
        "timezone": str(event.zone or "UTC"),
        "next_due": due.isoformat(sep=" "),
        "next_due_local": due.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "on_one_server": event.one_server,
        "queue": event.queue,
    }


@cli.command("schedule:list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def schedule_list(ctx: Context, as_json: bool) -> None:
    """Every scheduled event, its cron expression and when it is next due."""
    runner = scheduler(ctx)
    now = time.time()
    rows = [_row(event, now) for event in runner.events]
    if as_json:
        click.echo(json.dumps(rows))
        return
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("Event", overflow="fold")
    table.add_column("Cron", no_wrap=True)
    table.add_column("Next due (its zone)", no_wrap=True)
    for row in rows:
        one = " [dim](one server)[/dim]" if row["on_one_server"] else ""
        table.add_row(escape(row["name"]) + one, row["expression"], row["next_due_local"])
    console.print(table)
    if runner.is_paused():
        console.print("[yellow]The schedule is paused (lq schedule:resume).[/yellow]")


@cli.command("schedule:test")
@click.argument("name")
@click.pass_obj
def schedule_test(ctx: Context, name: str) -> None:
    """Dispatch the event named NAME now, whatever its schedule (each one matching it)."""
    runner = scheduler(ctx)
    found = [event for event in runner.events if name in event.description]
    if not found:
        names = ", ".join(event.description for event in runner.events)
        click.echo(f"No scheduled event is named {name!r}; there are: {names}", err=True)
        raise SystemExit(EXIT_NOT_FOUND)
    for event in found:
        job_id = event.dispatch(runner.manager)
        click.echo(f"Dispatched {event.description} as {job_id}.")


@cli.command("schedule:pause")
@click.pass_obj
def schedule_pause(ctx: Context) -> None:
    """Stop every scheduler dispatching until schedule:resume (Laravel 13)."""
    ctx.exit_if_nothing_to_change()
    scheduler(ctx).pause()
    click.echo("The schedule is paused: no scheduler dispatches until lq schedule:resume.")


@cli.command("schedule:resume")
@click.pass_obj
def schedule_resume(ctx: Context) -> None:
    """Let the schedulers dispatch again."""
    ctx.exit_if_nothing_to_change()
    scheduler(ctx).resume()
    click.echo("The schedule runs again.")

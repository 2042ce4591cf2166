"""`lq queue:pause`, `queue:resume`, `queue:restart` (Laravel: the artisan commands of the
same names; `queue:continue` is Laravel's other name for resume)."""

from __future__ import annotations

import json

import click

from laravel_queue.cli.app import Context, cli
from laravel_queue.cli.queue import split_target
from laravel_queue.connections.pausing import Interruptions


@cli.command("queue:pause")
@click.argument("targets", nargs=-1, required=True)
@click.option("--ttl", type=float, help="Resume by itself after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def queue_pause(ctx: Context, targets: tuple[str, ...], ttl: float | None, as_json: bool) -> None:
    """Stop every worker taking jobs from QUEUE (or CONNECTION:QUEUE); running jobs finish."""
    ctx.exit_if_nothing_to_change()
    paused = []
    for target in targets:
        name, queue = split_target(target)
        connection = ctx.manager.connection(name)
        connection.pause(queue, ttl=ttl)
        paused.append({"connection": connection.name, "queue": queue, "ttl": ttl})
    if as_json:
        click.echo(json.dumps(paused))
        return
    for row in paused:
        until = f" for {row['ttl']:g}s" if row["ttl"] else " until queue:resume"
        click.echo(f"Paused {row['connection']}:{row['queue']}{until}.")


@cli.command("queue:resume")
@click.argument("targets", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def queue_resume(ctx: Context, targets: tuple[str, ...], as_json: bool) -> None:
    """Let workers take jobs from QUEUE (or CONNECTION:QUEUE) again."""
    ctx.exit_if_nothing_to_change()
    resumed = []
    for target in targets:
        name, queue = split_target(target)
        connection = ctx.manager.connection(name)
        connection.resume(queue)
        resumed.append({"connection": connection.name, "queue": queue})
    if as_json:
        click.echo(json.dumps(resumed))
        return
    for row in resumed:
        click.echo(f"Resumed {row['connection']}:{row['queue']}.")


@cli.command("queue:restart")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def queue_restart(ctx: Context, as_json: bool) -> None:
    """Every `lq work`, on every host, exits after its current job (restart it with a
    process supervisor)."""
    ctx.exit_if_nothing_to_change()
    at = Interruptions(ctx.manager.cache).request_restart()
    if as_json:
        click.echo(json.dumps({"restart_requested_at": at}))
        return
    click.echo("Broadcasting queue restart signal: each worker exits after its current job.")

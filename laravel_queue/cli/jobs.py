"""`lq job:status ID` and `lq job:cancel ID`: where one job is, and stopping it (Laravel has
neither; Horizon shows a job's page), through its status record (`Queue.status`) and the
cancelled jobs (`Queue.cancel`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from laravel_queue.cli.app import Context, cli
from laravel_queue.status.cancels import cancel_job
from laravel_queue.status.record import JobStatus
from laravel_queue.status.store import is_job_id


@cli.command("job:status")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.pass_obj
def job_status(ctx: Context, job_id: str, as_json: bool) -> None:
    """Show where the job with this uuid is: its state, attempts, times and progress."""
    if not is_job_id(job_id):
        raise click.ClickException(f"{job_id!r} is not a job id (a uuid, as dispatch returns)")
    ctx.exit_if_nothing_to_read()
    store = ctx.manager.status
    if store is None:
        raise click.ClickException(
            "job statuses are not kept: the manager has status_ttl=0 (tracking off)"
        )
    status = store.find(job_id)
    if status is None:
        raise click.ClickException(
            f"no status for job {job_id}: never queued here, or older than the "
            f"status retention ({store.ttl:g}s)"
        )
    if as_json:
        click.echo(json.dumps(asdict(status)))
        return
    Console().print(_table(status))


@cli.command("job:cancel")
@click.argument("job_id")
@click.option(
    "--terminate",
    is_flag=True,
    help="Kill the pool process running the job, instead of asking it to stop (prefork).",
)
@click.pass_obj
def job_cancel(ctx: Context, job_id: str, terminate: bool) -> None:
    """Cancel the job with this uuid: it never runs if it has not started; a running job is
    asked to stop (its `cancelled()` turns true, its `interrupted()` is called)."""
    if not is_job_id(job_id):
        raise click.ClickException(f"{job_id!r} is not a job id (a uuid, as dispatch returns)")
    manager = ctx.manager
    if not cancel_job(manager.cancels, manager.status, job_id, terminate=terminate):
        status = manager.status.find(job_id) if manager.status is not None else None
        state = status.state if status is not None else "finished"
        raise click.ClickException(f"job {job_id} has already finished ({state})")
    status = manager.status.find(job_id) if manager.status is not None else None
    if status is not None and status.state == "processing":
        how = "its pool process is to be killed" if terminate else "asked to stop"
        click.echo(f"Job {job_id} is running: {how}.")
    else:
        click.echo(f"Job {job_id} is cancelled: it will not run.")


def _table(status: JobStatus) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    rows: list[tuple[str, str | None]] = [
        ("Job", status.id),
        ("Class", status.name),
        ("State", status.state),
        ("Queue", f"{status.connection}:{status.queue}"),
        ("Attempts", str(status.attempts)),
        ("Batch", status.batch_id),
        ("Queued at", _time(status.queued_at)),
        ("Available at", _time(status.available_at)),
        ("Started at", _time(status.started_at)),
        ("Finished at", _time(status.finished_at)),
        ("Exception", status.exception),
        ("Tags", ", ".join(status.tags or [])),
    ]
    if status.progress is not None:
        progress = status.progress
        done = f"{progress.current:g}" + (f"/{progress.total:g}" if progress.total else "")
        percent = f" ({progress.percent:g}%)" if progress.percent is not None else ""
        rows.append(("Progress", f"{done}{percent} {progress.message}".rstrip()))
    for name, value in rows:
        if value:
            table.add_row(name, escape(value))
    return table


def _time(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at).isoformat(sep=" ", timespec="seconds")

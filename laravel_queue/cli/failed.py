"""`lq failed`, `failed:show`, `failed:retry`, `failed:forget`, `failed:flush`, `failed:prune`
(Laravel: queue:failed, queue:retry, queue:forget, queue:flush, queue:prune-failed).

Exit codes: 0 done; 1 an ID matched no row, or some rows could not be retried (each is
listed with the reason); 3 the database cannot be reached (new failures are being spooled
and will be written when it is back); 2 is click's usage error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console, Group
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from laravel_queue.cli.app import Context, cli, confirm
from laravel_queue.exceptions import StoreTimeoutError
from laravel_queue.failed.store import FailedJobs
from laravel_queue.messages.payload import HEADER

EXIT_NOT_FOUND = 1
EXIT_DATABASE_DOWN = 3

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # whole lines: easy to grep in logs


@contextmanager
def failed_jobs(ctx: Context, *, changes: bool = False) -> Iterator[FailedJobs]:
    """The manager's failed-job store; a database that does not answer exits with code 3."""
    if changes:
        ctx.exit_if_nothing_to_change()
    else:
        ctx.exit_if_nothing_to_read()
    manager = ctx.manager
    try:
        yield manager.failed
    except (SQLAlchemyError, StoreTimeoutError) as exc:
        waiting = " (failures are spooled meanwhile)" if manager.failed.spool.pending() else ""
        reason = f"{type(exc).__name__}: {getattr(exc, 'orig', None) or exc}"
        errors.print(
            f"[red]Cannot reach the failed-jobs database {manager.mask(manager.database_url)}"
            f"{waiting}:[/red] {escape(reason)}"
        )
        raise SystemExit(EXIT_DATABASE_DOWN) from None


@cli.command("failed")
@click.option("--queue", help="Only this queue.")
@click.option("--connection", help="Only this connection.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many, newest first.")
@click.option("--tag", help="Only the jobs dispatched with this tag (e.g. User:42).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per line).")
@click.pass_obj
def list_failed(
    ctx: Context,
    queue: str | None,
    connection: str | None,
    limit: int | None,
    tag: str | None,
    as_json: bool,
) -> None:
    """List failed jobs, newest first (Laravel: queue:failed)."""
    with failed_jobs(ctx) as store:
        rows = store.iterate(queue=queue, connection=connection, limit=limit, tag=tag)
        if as_json:
            for job in rows:  # streamed: any number of rows in constant memory
                click.echo(json.dumps(job.to_row()))
            return
        summaries = [job.to_row() for job in rows]
    if not summaries:
        console.print("No failed jobs found.")
    else:
        console.print(failed_table(summaries, console.width))


@cli.command("failed:show")
@click.argument("id_or_uuid")
@click.option("--json", "as_json", is_flag=True, help="Print the whole row as JSON.")
@click.pass_obj
def show_failed(ctx: Context, id_or_uuid: str, as_json: bool) -> None:
    """Show one failed job: its message, the job's state decoded, and the full traceback."""
    with failed_jobs(ctx) as store:
        job = store.find(id_or_uuid)
    if job is None:
        errors.print(f"No failed job matches the ID {id_or_uuid}.")
        raise SystemExit(EXIT_NOT_FOUND)
    details = {**job.to_row(), "payload": job.payload, "exception": job.exception}
    if as_json:
        click.echo(json.dumps(details, default=str))
        return
    table = Table.grid(padding=(0, 2))
    for label in ("id", "uuid", "connection", "queue", "job", "failed_at"):
        table.add_row(f"[bold]{label}[/bold]", escape(str(details[label])))
    if job.tags:
        table.add_row("[bold]tags[/bold]", escape(", ".join(job.tags)))
    header = job.headers.get(HEADER)
    if isinstance(header, dict):  # as the job ended (the message shows the same, below)
        tries = header.get("max_tries")
        of = "" if tries is None else f" (tries={tries or 'unlimited'})"
        table.add_row("[bold]attempts[/bold]", escape(f"{header.get('attempts')}{of}"))
        table.add_row("[bold]exceptions[/bold]", escape(str(header.get("exceptions"))))
    console.print(table)
    if HEADER in job.headers:
        console.rule("Job state")
        console.print(job.decoded_state)
    else:  # a plain Celery task: what it was called with
        console.rule("Arguments")
        console.print({"args": job.payload.get("args") or [], "kwargs": job.state})
    console.rule("Message")
    console.print(Syntax(json.dumps(job.payload, indent=2, default=str), "json", word_wrap=True))
    console.rule("Exception")
    console.print(job.exception, markup=False, highlight=False)


MIN_EXCEPTION_WIDTH = 16
SUMMARY_COLUMNS = {
    "ID": "id",
    "Connection": "connection",
    "Queue": "queue",
    "Job": "job",
    "Exception": "exception",
    "Failed at": "failed_at",
}


def failed_table(rows: list[dict[str, Any]], width: int) -> Table | Group:
    """Every column but the exception keeps its text whole; the exception gets the room left
    on a `width`-column terminal, cut with an ellipsis. Too narrow for that, each failure
    takes two lines under a header: what identifies it, then when and why."""
    cells = [{name: str(row[key]) for name, key in SUMMARY_COLUMNS.items()} for row in rows]
    for cell in cells:
        cell["Exception"] = short_exception(cell["Exception"])
    whole = [name for name in SUMMARY_COLUMNS if name != "Exception"]
    used = sum(max([len(name)] + [len(cell[name]) for cell in cells]) for name in whole)
    room = width - used - 3 * len(SUMMARY_COLUMNS) - 1
    if room < MIN_EXCEPTION_WIDTH:
        return _two_lines(cells, width)
    table = Table()
    for name in SUMMARY_COLUMNS:
        table.add_column(name, no_wrap=True)
    for cell in cells:
        exception = _shorten(cell["Exception"], room)
        table.add_row(*(escape(exception if n == "Exception" else cell[n]) for n in cell))
    return table


def short_exception(summary: str) -> str:
    """`MaxAttemptsExceededError: ...` for `laravel_queue.exceptions.MaxAttemptsExceededError:
    ...`: the class's module is noise in a table (`failed:show` and `--json` keep it)."""
    return re.sub(r"^(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_]\w*(?::|$))", "", summary)


def _two_lines(cells: list[dict[str, str]], width: int) -> Group:
    lines = [Text("ID  Job  Connection:Queue", style="bold")]
    lines.append(Text("    Failed at  Exception", style="bold"))
    for cell in cells:
        where = f"{cell['Connection']}:{cell['Queue']}"
        first = f"{cell['ID']}  {cell['Job']}"
        if len(first) + 2 + len(where) <= width:
            first, when = f"{first}  {where}", cell["Failed at"]
        else:  # the job's name alone fills the line: where it ran moves down
            when = f"{where}  {cell['Failed at']}"
        lines.append(Text(first))
        second = f"    {when}  {cell['Exception']}"
        lines.append(Text(_shorten(second, width), style="dim"))
    return Group(*lines)


def _shorten(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"


@cli.command("failed:retry")
@click.argument("ids", nargs=-1, required=True, metavar="ID... | all")
@click.option("--queue", help="Only failed jobs of this queue.")
@click.pass_obj
def retry_failed(ctx: Context, ids: tuple[str, ...], queue: str | None) -> None:
    """Publish failed jobs again, attempts reset, and delete their rows (Laravel: queue:retry).

    ID is the row's id or the job's uuid; `all` retries every row (of --queue).
    """
    every = [i for i in ids if i.lower() == "all"]
    with failed_jobs(ctx, changes=True) as store:
        total = store.count(queue) if every else len(ids)
        with _progress(total) as advance:
            report = store.retry(None if every else ids, queue=queue, on_progress=advance)
    console.print(f"Retried {report.retried} failed job(s).")
    for missing in report.missing:
        where = f" on queue {queue}" if queue else ""
        errors.print(f"No failed job matches the ID {missing}{where}.")
    for row_id, reason in report.reasons:
        errors.print(f"[yellow]Failed job {row_id} was not retried:[/yellow] {escape(reason)}")
    if report.refused > len(report.reasons):
        errors.print(f"... and {report.refused - len(report.reasons)} more not retried.")
    if not report.ok:
        raise SystemExit(EXIT_NOT_FOUND)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    progress = Progress(
        TextColumn("Retrying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=total < 2,
    )
    with progress:
        task = progress.add_task("retry", total=total)
        yield lambda done: progress.advance(task, done)


@cli.command("failed:forget")
@click.argument("id_or_uuid")
@click.pass_obj
def forget_failed(ctx: Context, id_or_uuid: str) -> None:
    """Delete one failed job (Laravel: queue:forget)."""
    with failed_jobs(ctx, changes=True) as store:
        deleted = store.forget(id_or_uuid)
    if not deleted:
        errors.print(f"No failed job matches the ID {id_or_uuid}.")
        raise SystemExit(EXIT_NOT_FOUND)
    console.print("Failed job deleted successfully.")


@cli.command("failed:flush")
@click.option("--hours", type=click.FloatRange(min=0), help="Only jobs failed this long ago.")
@click.option("--force", is_flag=True, help="Do not ask first.")
@click.pass_obj
def flush_failed(ctx: Context, hours: float | None, force: bool) -> None:
    """Delete every failed job, or those older than --hours (Laravel: queue:flush)."""
    ctx.exit_if_nothing_to_change()
    which = f"failed jobs older than {hours:g} hours" if hours is not None else "failed jobs"
    confirm(f"Delete all {which}?", force)
    with failed_jobs(ctx, changes=True) as store:
        deleted = store.flush(hours)
    console.print(f"Deleted {deleted} failed job(s).")


@cli.command("failed:prune")
@click.option("--hours", type=click.FloatRange(min=0), default=24, show_default=True)
@click.pass_obj
def prune_failed(ctx: Context, hours: float) -> None:
    """Delete failed jobs older than --hours, 1,000 at a time (Laravel: queue:prune-failed)."""
    with failed_jobs(ctx, changes=True) as store:
        deleted = store.prune(hours)
    console.print(f"Pruned {deleted} failed job(s) older than {hours:g} hours.")

"""`lq batches`, `batches:show`, `batches:retry`, `batches:prune` (Laravel: queue:batches,
queue:retry-batch, queue:prune-batches).

Exit codes: 0 done; 1 no batch has that ID, or some of its failed jobs could not be retried;
3 the database cannot be reached; 2 is click's usage error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from laravel_queue.bus.batch_repository import BatchRepository
from laravel_queue.cli.app import Context, cli
from laravel_queue.messages.batch_record import BatchRecord

EXIT_NOT_FOUND = 1
EXIT_DATABASE_DOWN = 3

console = Console()
errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def batch_store(ctx: Context, *, changes: bool = False) -> Iterator[BatchRepository]:
    if changes:
        ctx.exit_if_nothing_to_change()
    else:
        ctx.exit_if_nothing_to_read()
    manager = ctx.manager
    try:
        yield manager.batches
    except SQLAlchemyError as exc:
        reason = f"{type(exc).__name__}: {getattr(exc, 'orig', None) or exc}"
        errors.print(
            f"[red]Cannot reach the batches database {manager.mask(manager.database_url)}:"
            f"[/red] {escape(reason)}"
        )
        raise SystemExit(EXIT_DATABASE_DOWN) from None


def _when(timestamp: int | None) -> str:
    return datetime.fromtimestamp(timestamp).isoformat(sep=" ") if timestamp else ""


def _progress(batch: BatchRecord) -> int:
    processed = batch.total_jobs - batch.pending_jobs
    return round(processed / batch.total_jobs * 100) if batch.total_jobs else 0


def summary(batch: BatchRecord) -> dict[str, Any]:
    return {
        "id": batch.id,
        "name": batch.name,
        "progress": _progress(batch),
        "total_jobs": batch.total_jobs,
        "pending_jobs": batch.pending_jobs,
        "failed_jobs": batch.failed_jobs,
        "created_at": _when(batch.created_at),
        "finished_at": _when(batch.finished_at),
        "cancelled_at": _when(batch.cancelled_at),
        "problem": batch.problem,
    }


@cli.command("batches")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per line).")
@click.pass_obj
def list_batches(ctx: Context, limit: int, as_json: bool) -> None:
    """List batches, newest first (Laravel: queue:batches)."""
    with batch_store(ctx) as store:
        batches = store.all(limit)
    if as_json:
        for batch in batches:
            click.echo(json.dumps(summary(batch)))
        return
    if not batches:
        console.print("No batches found.")
        return
    console.print(batches_table(batches, console.width))


WIDE_CONSOLE = 120  # narrower: percent only, counts as p/f/t, the state without dates
LONGEST_UNBROKEN_WORD = 24  # a longer word in a batch's name folds


def batches_table(batches: list[BatchRecord], width: int) -> Table:
    """IDs are never cut (they are what you copy into batches:show); a name wraps between
    its words, never inside one (up to `LONGEST_UNBROKEN_WORD` characters)."""
    wide = width >= WIDE_CONSOLE
    longest_word = max((len(word) for b in batches for word in b.name.split()), default=0)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("ID", no_wrap=True, min_width=36)
    table.add_column(
        "Name", overflow="fold", min_width=max(8, min(longest_word, LONGEST_UNBROKEN_WORD))
    )
    if wide:
        for header in ("Progress", "Pending", "Failed", "Total", "Created", "Ended"):
            table.add_column(header, no_wrap=True)
    else:
        for header in ("%", "p/f/t", "State"):
            table.add_column(header, no_wrap=True)
    for batch in batches:
        percent = f"{_progress(batch)}%"
        if wide:
            bar = Table.grid(padding=(0, 1))
            bar.add_row(ProgressBar(total=100, completed=_progress(batch), width=10), percent)
            ended = _short(batch.finished_at)
            if batch.cancelled_at:
                ended = f"cancelled {_short(batch.cancelled_at)}"
            if batch.problem:
                ended = f"unreadable {ended}".strip()
            counts = [str(batch.pending_jobs), str(batch.failed_jobs), str(batch.total_jobs)]
            table.add_row(
                batch.id, escape(batch.name), bar, *counts, _short(batch.created_at), ended
            )
        else:
            counts_text = f"{batch.pending_jobs}/{batch.failed_jobs}/{batch.total_jobs}"
            table.add_row(batch.id, escape(batch.name), percent, counts_text, _state(batch))
    return table


def _state(batch: BatchRecord) -> str:
    if batch.problem:
        return "unreadable"
    if batch.cancelled_at:
        return "cancelled"
    return "finished" if batch.finished_at else "running"


def _short(timestamp: int | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%m-%d %H:%M") if timestamp else ""


@cli.command("batches:show")
@click.argument("batch_id")
@click.option("--json", "as_json", is_flag=True, help="Print the batch as JSON.")
@click.pass_obj
def show_batch(ctx: Context, batch_id: str, as_json: bool) -> None:
    """Show one batch: its counters, failed job uuids and options."""
    with batch_store(ctx) as store:
        batch = store.find(batch_id)
    if batch is None:
        errors.print(f"No batch has the ID {batch_id}.")
        raise SystemExit(EXIT_NOT_FOUND)
    details = {**summary(batch), "failed_job_ids": batch.failed_job_ids, "options": batch.options}
    if as_json:
        click.echo(json.dumps(details))
        return
    table = Table.grid(padding=(0, 2))
    for label, value in details.items():
        table.add_row(f"[bold]{label}[/bold]", escape(str(value)))
    console.print(table)


@cli.command("batches:retry")
@click.argument("batch_id")
@click.pass_obj
def retry_batch(ctx: Context, batch_id: str) -> None:
    """Retry the batch's failed jobs from failed_jobs (Laravel: queue:retry-batch)."""
    with batch_store(ctx, changes=True) as store:
        batch = store.find(batch_id)
    if batch is None:
        errors.print(f"No batch has the ID {batch_id}.")
        raise SystemExit(EXIT_NOT_FOUND)
    if not batch.failed_job_ids:
        console.print(f"Batch {batch_id} has no failed jobs.")
        return
    report = ctx.manager.failed.retry(batch.failed_job_ids)
    console.print(f"Retried {report.retried} failed job(s) of batch {batch_id}.")
    for uuid in report.missing:
        errors.print(f"{uuid} is no longer in failed_jobs (forgotten or pruned).")
    for row_id, reason in report.reasons:
        errors.print(f"failed job {row_id} not retried: {reason}")
    if not report.ok:
        raise SystemExit(EXIT_NOT_FOUND)


@cli.command("batches:prune")
@click.option(
    "--hours",
    type=click.IntRange(min=0),
    default=24,
    show_default=True,
    help="Delete finished batches older than this.",
)
@click.option(
    "--unfinished",
    type=click.IntRange(min=0),
    default=None,
    help="Also delete unfinished batches created more than this many hours ago.",
)
@click.option(
    "--cancelled",
    type=click.IntRange(min=0),
    default=None,
    help="Also delete cancelled batches created more than this many hours ago.",
)
@click.pass_obj
def prune_batches(ctx: Context, hours: int, unfinished: int | None, cancelled: int | None) -> None:
    """Delete old batches (Laravel: queue:prune-batches)."""
    now = int(time.time())
    with batch_store(ctx, changes=True) as store:
        deleted = store.prune(
            finished_before=now - hours * 3600,
            unfinished_before=None if unfinished is None else now - unfinished * 3600,
            cancelled_before=None if cancelled is None else now - cancelled * 3600,
        )
    console.print(f"{deleted} batch(es) pruned.")

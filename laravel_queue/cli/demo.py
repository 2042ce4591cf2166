"""`lq demo`: dispatch the example jobs, run a worker until the work is done, report."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import click
from celery.exceptions import SecurityWarning
from rich.console import Console

from laravel_queue.cli.app import cli
from laravel_queue.cli.failed import failed_table
from laravel_queue.jobs.options import WorkerOptions
from laravel_queue.manager import QueueManager
from laravel_queue.worker.run import run_worker


@cli.command("demo")
@click.option("--keep", is_flag=True, help="Keep the demo's SQLite file and print its path.")
def demo(keep: bool) -> None:
    """Run three example jobs on the embedded SQLite queue (no server needed)."""
    home = Path(tempfile.mkdtemp(prefix="lq-demo-"))
    os.environ["LQ_HOME"] = str(home)
    # Imported only here: importing the demo's job classes registers them as tasks of every
    # Celery app in the process, which no other command should do.
    from laravel_queue.demo import ChargeExpiredCard, SendWelcomeEmail, SyncInventory

    console = Console()
    manager = QueueManager()
    log = str(home / "demo.log")
    console.print(f"[bold]laravel_queue demo[/] — embedded SQLite at {home}")
    for job in (
        SendWelcomeEmail("ada@example.com", log),
        SyncInventory("north", log),
        ChargeExpiredCard(1042, log),
    ):
        console.print(f"  dispatched {type(job).__name__:18} id={job.dispatch()}")
    console.print("Running a worker until the queue is empty...\n")
    options = WorkerOptions(
        pool="solo", stop_when_empty=True, wait_for_delayed=True, sleep=0.1, max_time=60
    )
    with warnings.catch_warnings():
        # Celery warns when a worker runs as root; the demo's worker is a throwaway one in a
        # temporary folder, and the warning would be the first thing a newcomer reads.
        warnings.simplefilter("ignore", SecurityWarning)
        run_worker(manager, None, options, loglevel="CRITICAL", quiet=True)
    console.print("[bold]What happened[/]")
    for line in Path(log).read_text().splitlines():
        console.print(f"  {line}")
    console.print("\n[bold]lq failed[/bold]")
    rows = [failed.to_row() for failed in manager.failed.all()]
    console.print(failed_table(rows, console.width))
    if keep:
        console.print(f"Kept {home}. Look around with:")
        console.print(f"  LQ_HOME={home} lq failed", markup=False, highlight=False)
        console.print(f"  LQ_HOME={home} lq failed:show 1", markup=False, highlight=False)
    else:
        for path in sorted(home.glob("*"), reverse=True):
            path.unlink()
        home.rmdir()

"""`lq work` (Laravel: queue:work)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import click
from celery.signals import worker_ready, worker_shutting_down

from laravel_queue.cli.app import Context, cli
from laravel_queue.connections.failover import FailoverConnection
from laravel_queue.jobs.options import DEFAULT_WORKER_NAME, WorkerOptions
from laravel_queue.scheduling import Schedule, Scheduler
from laravel_queue.worker.run import run_worker


def default_concurrency() -> int:
    """Celery's default: one pool process per CPU. A queue worker waits on I/O for most jobs
    and prefork processes share nothing, so the box's cores are what bounds it."""
    return os.cpu_count() or 1


def _ints(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"expected seconds like 10 or 10,60,300, got {text!r}") from None


@cli.command("work")
@click.argument("connection", required=False)
@click.option(
    "--queue",
    "-Q",
    "queues",
    default="default",
    show_default=True,
    help="Queues in strict priority order, comma-separated.",
)
@click.option(
    "--concurrency",
    "-c",
    type=int,
    default=None,
    help="Worker processes (or threads) [default: the CPU count, as Celery].",
)
@click.option(
    "--pool",
    "-P",
    default="prefork",
    show_default=True,
    type=click.Choice(["prefork", "solo", "threads"]),
)
@click.option("--once", is_flag=True, help="Process one job, then exit.")
@click.option("--stop-when-empty", is_flag=True, help="Exit once the queues are empty.")
@click.option("--max-jobs", type=int, default=0, help="Exit after this many jobs (0 = off).")
@click.option("--max-time", type=float, default=0, help="Exit after this many seconds (0 = off).")
@click.option(
    "--sleep",
    type=float,
    default=None,
    help="Seconds a polling transport (SQL) waits when it finds no job [default: 0.05 on SQL].",
)
@click.option("--rest", type=float, default=0, help="Seconds to rest after each job.")
@click.option(
    "--timeout",
    type=float,
    default=60,
    show_default=True,
    help="Seconds a job may run when it sets no timeout (0 = no limit).",
)
@click.option(
    "--tries",
    type=int,
    default=1,
    show_default=True,
    help="Attempts for jobs that set no tries (0 = unlimited).",
)
@click.option(
    "--backoff",
    default="0",
    show_default=True,
    help="Seconds before retrying a failed job that sets no backoff, e.g. 10,60.",
)
@click.option(
    "--memory",
    type=int,
    default=128,
    show_default=True,
    help="Exit with code 12 when a worker process uses this many MB.",
)
@click.option(
    "--name",
    default=DEFAULT_WORKER_NAME,
    show_default=True,
    help="Worker name: NAME@host (the default adds the pid); %h, %n, %d as in Celery.",
)
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also dispatch the scheduled events from this process (Celery's worker -B).",
)
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.pass_obj
def work(
    ctx: Context,
    connection: str | None,
    queues: str,
    concurrency: int | None,
    pool: str,
    once: bool,
    stop_when_empty: bool,
    max_jobs: int,
    max_time: float,
    sleep: float | None,
    rest: float,
    timeout: float,
    tries: int,
    backoff: str,
    memory: int,
    name: str,
    with_scheduler: bool,
    loglevel: str,
) -> None:
    """Process jobs from the queues, in strict priority order."""
    target = ctx.manager.connection(connection)
    if isinstance(target, FailoverConnection):
        sys.exit(_work_each_member(target, connection or ""))
    if once:
        concurrency = 1
    elif concurrency is None:
        concurrency = default_concurrency()
    options = WorkerOptions(
        name=name,
        queues=[q.strip() for q in queues.split(",") if q.strip()],
        concurrency=concurrency,
        pool=pool,
        once=once,
        stop_when_empty=stop_when_empty,
        max_jobs=max_jobs,
        max_time=max_time,
        sleep=sleep,
        rest=rest,
        timeout=timeout,
        tries=tries,
        backoff=_ints(backoff) or [0],
        memory=memory,
    )
    stop_scheduling = threading.Event()
    if with_scheduler:
        _schedule_alongside(Scheduler(ctx.manager, Schedule.events()), stop_scheduling)
    try:
        code = run_worker(ctx.manager, connection, options, loglevel=loglevel)
    finally:
        stop_scheduling.set()
    sys.exit(code)


def _work_each_member(failover: FailoverConnection, given: str) -> int:
    """`lq work failover`: one `lq work` process per connection the failover lists (each
    has its own broker, so its own worker), with this command's other options; signals are
    passed on, and the exit code is the highest of theirs."""
    argv = sys.argv[1:]
    at = argv.index(given, argv.index("work") + 1)
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "laravel_queue", *argv[:at], member.name, *argv[at + 1 :]]
        )
        for member in failover.members
    ]
    click.echo(
        f"failover connection {failover.name}: a worker for each of "
        + ", ".join(member.name for member in failover.members),
        err=True,
    )

    def pass_on(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, pass_on)
    return max(child.wait() for child in children)


def _schedule_alongside(runner: Scheduler, stop: threading.Event) -> None:
    """The scheduler in a thread of the worker's main process, from when the worker is ready
    (its pool processes are forked, so none inherits the thread's locks) until it starts
    shutting down (so its dispatches do not compete with giving back unfinished jobs). Each
    pass logs what it dispatched to the worker's log."""

    def start(**_: object) -> None:
        thread = threading.Thread(target=runner.work, args=(stop,), name="lq-scheduler")
        thread.daemon = True
        thread.start()

    worker_ready.connect(start, weak=False)
    worker_shutting_down.connect(lambda **_: stop.set(), weak=False)

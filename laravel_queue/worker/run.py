"""Start a Celery worker the way `lq work` promises (Laravel: queue:work)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from celery.apps.worker import ARTLINES
from celery.utils.nodenames import host_format

from laravel_queue import events
from laravel_queue.celery_app.task import JobTask
from laravel_queue.connections.celery import CeleryConnection
from laravel_queue.durations import hard_limit
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.jobs.options import DEFAULT_WORKER_NAME, WorkerOptions
from laravel_queue.jobs.registry import jobs
from laravel_queue.urls import RELIABLE_REDIS_TRANSPORT, is_redis_broker, is_sql_broker, mask_url
from laravel_queue.worker.stop import stop_state

if TYPE_CHECKING:
    from laravel_queue.manager import QueueManager

logger = logging.getLogger("laravel_queue.worker")

DEFAULT_SLEEP_SECONDS = 3.0  # Laravel's --sleep
SQL_POLL_SECONDS = 0.1

JOBS_HELD_PER_THREAD = 2
"""The jobs each thread of `--pool threads` holds: the one it runs and the next, so a thread
that finishes starts again without waiting for a round trip to the broker (Dramatiq holds two
per thread as well). A prefork process, or the solo pool, holds one, as Laravel's worker
reserves one job at a time."""


def run_worker(
    manager: QueueManager,
    connection: str | None,
    options: WorkerOptions,
    loglevel: str = "INFO",
    quiet: bool = False,
) -> int:
    """Run until stopped; returns the process exit code (12 when `--memory` was exceeded).

    `quiet` is for programs that run a worker and then print their own report (`lq demo`):
    no banner, and stdout and logging are left as they were.
    """
    target = manager.connection(connection)
    if not isinstance(target, CeleryConnection):
        raise ConfigurationError(f"connection '{target.name}' runs jobs in-process; no worker")
    options.managed = True
    forwards = forward_lines(target, options.queues)
    options.queues = forwarded_queues(target, options.queues)
    manager.worker_options = options
    for warning in visibility_warnings(target, options):
        logger.warning(warning)
    apply_sleep(target, options.sleep)
    apply_default_timeout(target, options.timeout)
    if quiet:
        target.app.conf.worker_hijack_root_logger = False
        target.app.conf.worker_redirect_stdouts = False
    worker = _with_banner(target.app.Worker, manager, target, forwards)(
        hostname=node_name(options.name),
        queues=options.queues,
        concurrency=options.concurrency,
        pool_cls=options.pool,
        loglevel=loglevel,
        without_mingle=True,
        without_gossip=True,
        optimization="fair",
        prefetch_multiplier=JOBS_HELD_PER_THREAD if options.pool == "threads" else 1,
        quiet=quiet,
    )
    events.dispatch(events.WorkerStarting(target.name, ",".join(options.queues), options))
    worker.start()
    status = stop_state.exit_code or int(worker.exitcode or 0)
    events.dispatch(events.WorkerStopping(status, options, stop_state.reason or "interrupted"))
    return status


def forwarded_queues(target: CeleryConnection, queues: list[str]) -> list[str]:
    """`--queue` names with `Queue.forward`s applied, in order, each once: a worker given the
    old name of a renamed queue consumes the new one, and then the old one, so that what was
    queued there before the forward is not stranded (the banner says so)."""
    found: list[str] = []
    for queue in queues:
        found += [q for q in (target.queue_name(queue), queue) if q not in found]
    return found


def forward_lines(target: CeleryConnection, queues: list[str]) -> list[str]:
    """The banner's account of the forwards among `queues`."""
    return [
        f".> forwarded:   {queue} -> {target.queue_name(queue)} (then what is left on {queue})"
        for queue in queues
        if target.queue_name(queue) != queue
    ]


def _with_banner(
    worker_class: type[Any], manager: QueueManager, target: CeleryConnection, extra: list[str]
) -> Any:
    """Celery's worker, whose banner names the broker by its URL (Celery printed our transport
    class's import path as the scheme), says where failed jobs are recorded, and adds the
    `extra` lines."""

    class Worker(worker_class):  # type: ignore[misc]
        def startup_info(self, artlines: bool = True) -> str:
            lines = super().startup_info(artlines=False).splitlines()
            for index, line in enumerate(lines):
                if line.startswith(".> transport:"):
                    lines[index] = f".> transport:   {mask_url(target.url)}"
                if line.startswith(".> results:"):
                    failed = f".> failed jobs: {mask_url(manager.database_url)}"
                    lines[index + 1 : index + 1] = [failed, *extra]
                    break
            if artlines:
                lines = [" ".join(pair) for pair in zip(ARTLINES, lines, strict=False)] + [
                    " " * 16 + line for line in lines[len(ARTLINES) :]
                ]
            return "\n".join(lines) + "\n"

    return Worker


def node_name(name: str) -> str:
    """The Celery node name: `NAME@host`, with Celery's `%h`, `%n` and `%d` expanded in a
    `--name` that gives its own `@...`. The default name gets the process id, so two workers
    on one host never share a node name (Celery's remote control and Flower tell workers
    apart by it)."""
    if "@" not in name:
        name = f"{name}-{os.getpid()}@%h" if name == DEFAULT_WORKER_NAME else f"{name}@%h"
    return str(host_format(name))


def apply_default_timeout(connection: CeleryConnection, timeout: float) -> None:
    """`--timeout` for jobs whose message sets no limit, set on the job tasks only: a
    worker-wide Celery limit would also cut the app's plain Celery tasks short."""
    for task in connection.app.tasks.values():
        if isinstance(task, JobTask):
            task.soft_time_limit = timeout or None
            task.time_limit = hard_limit(timeout) if timeout else None


def visibility_warnings(connection: CeleryConnection, options: WorkerOptions) -> list[str]:
    """Laravel's rule: `timeout` must stay below `retry_after`, or a job can run twice.

    Our `retry_after` is the broker's visibility timeout (Redis, SQS); the hard limit Celery
    enforces is a little after the timeout, so that is what is compared.
    """
    reliable = connection.app.conf.broker_transport == RELIABLE_REDIS_TRANSPORT
    if reliable or not (is_redis_broker(connection.url) or connection.url.startswith("sqs")):
        return []  # reliable fetch redelivers nothing while its worker lives
    visibility = float(
        (connection.app.conf.broker_transport_options or {}).get("visibility_timeout", 3600)
    )
    timeouts = {"the worker's --timeout": options.timeout}
    timeouts.update({name: cls.timeout for name, cls in jobs().items() if cls.timeout})
    return [
        f"{who} ({timeout}s, killed at {hard_limit(timeout):.0f}s) is not below the broker's "
        f"visibility_timeout ({visibility:.0f}s): a job still running then is delivered to "
        "another worker and runs twice; raise visibility_timeout or lower the timeout"
        for who, timeout in timeouts.items()
        if timeout and hard_limit(timeout) >= visibility
    ]


def apply_sleep(connection: CeleryConnection, seconds: float | None) -> None:
    """Laravel's `--sleep` is the pause after finding no job: Kombu's `polling_interval`.

    Redis (BRPOP) and AMQP (push) never sleep, so jobs start at once there. The SQL broker
    polls: it looks again at once after a job and only sleeps when the queues are empty, so a
    short default (`SQL_POLL_SECONDS`) is what puts a released or delayed job to work within
    a fraction of a second, rather than Laravel's 3 s. Kombu passes SQL transport options to
    create_engine(), so the interval is set on the transport class instead — this process
    runs one worker, so that is its own setting.
    """
    if is_sql_broker(connection.url):
        # Kombu's SQL transport imports SQLAlchemy: only a worker on the SQL broker loads it.
        from kombu.transport.sqlalchemy import Transport as SqlTransport

        SqlTransport.polling_interval = SQL_POLL_SECONDS if seconds is None else seconds
    else:
        options = dict(connection.app.conf.broker_transport_options or {})
        options["polling_interval"] = DEFAULT_SLEEP_SECONDS if seconds is None else seconds
        connection.app.conf.broker_transport_options = options

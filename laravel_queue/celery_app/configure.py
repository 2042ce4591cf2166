"""Configuring a Celery app when a manager is bound to it, so any worker of it runs jobs right.

The settings and bootsteps are put on the app itself, so a stock `celery -A shop worker`
gets them too: JSON only, one message reserved at a time (strict queue order, no job held in
memory by an idle process), strict queue order on Redis, our consumer (which records messages
Celery cannot run), the mover of due delayed jobs, the drainer of spooled failures, pause
and restart polling and the worker heartbeat.

The consumer and the bootsteps are named by their import paths, as Celery's own settings
are: Celery loads them when a worker starts, so the manager (below the worker) never
imports the worker's modules.
"""

from __future__ import annotations

import gc
from typing import Any

from celery import Celery, signals
from celery._state import _get_active_apps
from kombu.transport import TRANSPORT_ALIASES, resolve_transport

from laravel_queue import events
from laravel_queue.celery_app.plain_tasks import capture_plain_task_failures
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.runtime import interrupting, worker_pausing
from laravel_queue.transport.deadline import DISPATCH_TIMEOUT_SECONDS, socket_timeout
from laravel_queue.transport.options import NOT_ENGINE_OPTIONS
from laravel_queue.urls import (
    RELIABLE_REDIS_TRANSPORT,
    RELIABLE_SQL_PREFIX,
    RELIABLE_SQL_TRANSPORT,
    SQL_BROKER_PREFIX,
    is_redis_broker,
    mask_url,
)

CONSUMER_STEPS = (
    "laravel_queue.worker.batch_counts:BatchCounts",
    "laravel_queue.worker.mover:DelayedJobMover",
    "laravel_queue.worker.spool_drainer:SpoolDrainer",
    "laravel_queue.worker.stop:StopConditions",
    "laravel_queue.worker.interruptions:InterruptionPolling",
    "laravel_queue.worker.heartbeat:WorkerHeartbeat",
    "laravel_queue.worker.waits:WaitMonitor",
    "laravel_queue.worker.cache_purge:CachePurge",
    "laravel_queue.worker.pool_check:AsyncJobsNeedALoop",
)


def check_broker_url(url: str) -> None:
    """A URL whose scheme names no Kombu transport (`redsi://`) is refused when the manager
    is made, with Kombu's suggestion, instead of raising KeyError at the first dispatch."""
    scheme = url.partition("://")[0]
    if not url or not scheme:
        return
    try:
        resolve_transport(scheme.partition("+")[0])
    except KeyError as exc:
        raise ConfigurationError(
            f"the broker URL {mask_url(url)} names no transport Kombu knows: {exc.args[0]}"
        ) from None


def register_transports() -> None:
    """Name our SQL transport with reliable fetch for Kombu (`lqsql+<database url>`)."""
    TRANSPORT_ALIASES.setdefault(RELIABLE_SQL_PREFIX.rstrip("+"), RELIABLE_SQL_TRANSPORT)


def configure_app(app: Celery, dispatch_timeout: float = DISPATCH_TIMEOUT_SECONDS) -> None:
    """`dispatch_timeout` bounds the broker's socket waits (`transport.deadline`): Kombu's
    default is to wait forever, and a frozen Redis hung every dispatch for as long as it was
    frozen. `broker_transport_options` set by the app win."""
    conf = app.conf
    register_transports()
    check_broker_url(str(conf.broker_url or ""))
    capture_plain_task_failures()  # whether to record them is the manager's setting
    conf.accept_content = ["json"]
    conf.task_serializer = "json"
    conf.result_serializer = "json"
    conf.result_accept_content = ["json"]
    conf.worker_prefetch_multiplier = 1
    conf.worker_consumer = "laravel_queue.worker.consumer:Consumer"
    conf.broker_connection_retry_on_startup = True
    url = str(conf.broker_url or "")
    reliable = False
    if is_redis_broker(url):
        options = dict(conf.broker_transport_options or {})
        options.setdefault("queue_order_strategy", "priority")
        options.setdefault("socket_timeout", socket_timeout(dispatch_timeout))
        options.setdefault("socket_connect_timeout", socket_timeout(dispatch_timeout))
        conf.broker_transport_options = options
        reliable = url.startswith("redis://") and options.get("reliable_fetch", True)
    if conf.broker_transport in (None, RELIABLE_REDIS_TRANSPORT):
        conf.broker_transport = RELIABLE_REDIS_TRANSPORT if reliable else None
    if url.startswith(SQL_BROKER_PREFIX):
        options = dict(conf.broker_transport_options or {})
        if options.get("reliable_fetch", True):
            conf.broker_url = RELIABLE_SQL_PREFIX + url.removeprefix(SQL_BROKER_PREFIX)
        else:  # Kombu's own passes every option to create_engine(), which refuses these
            options = {k: v for k, v in options.items() if k not in NOT_ENGINE_OPTIONS}
        conf.broker_transport_options = options
    app.steps["consumer"].update(CONSUMER_STEPS)
    signals.worker_process_init.connect(_after_fork, weak=False)
    signals.worker_process_shutdown.connect(_before_exit, weak=False)
    signals.worker_init.connect(_listen_for_interruptions, weak=False)
    signals.worker_shutting_down.connect(_interrupt_running_jobs, weak=False)
    signals.worker_before_create_process.connect(_freeze_before_first_fork, weak=False)


def _freeze_before_first_fork(**_: Any) -> None:
    """Before the prefork pool's first child: collect once, then freeze what is left, as
    Python's `gc.freeze` documentation advises for servers that fork. Celery collects
    before every fork (its issue 2927); with the boot's objects frozen, that collection no
    longer walks them again for the second child, which starts the pool sooner, and no child
    collection touches (and so copies) the pages they live on."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def _listen_for_interruptions(**_: Any) -> None:
    """Before the pool starts, so every pool process has the handlers from its start."""
    interrupting.listen()
    worker_pausing.listen()


def _interrupt_running_jobs(sig: str = "", how: str = "", **_: Any) -> None:
    """A warm shutdown fires `WorkerInterrupted`, then tells the running jobs
    (`interrupted("shutdown")`); a cold one kills them."""
    if how != "Warm":
        return
    for app in _get_active_apps():
        manager = getattr(app, "laravel_queue", None)
        if manager is not None and manager.connections:
            options = manager.worker_options
            connection = manager.connection_for_app(app).name
            queue = ",".join(options.queues)
            events.dispatch(events.WorkerInterrupted(connection, str(sig), queue, options))
            break
    interrupting.warm_shutdown()


def _before_exit(**_: Any) -> None:
    """A pool process writes what waits to be written before it exits."""
    for app in _get_active_apps():
        manager = getattr(app, "laravel_queue", None)
        if manager is not None:
            manager.before_exit()


def _after_fork(**_: Any) -> None:
    """A prefork child must not reuse its parent's database or Redis sockets."""
    for app in _get_active_apps():
        manager = getattr(app, "laravel_queue", None)
        if manager is not None:
            manager.after_fork()

"""Bootstep: Laravel's stop conditions (Worker::stopIfNecessary) on a Celery worker.

`--once` / `--max-jobs`: after the Nth job is *received* the worker stops consuming, so it
takes exactly N; it exits once they finish. `--stop-when-empty`, `--max-time` and `--memory`
are checked on the consumer's timer. Every stop goes the same way: stop taking messages,
let the jobs already taken finish and be acknowledged, then Celery's warm shutdown.

Why not the warm shutdown at once: a message being handed to a pool process when it starts
(a big one takes a while to write down the pipe) is left half-written, the pool process
waits for the rest forever, and the shutdown waits for the pool process — the worker hangs
until it is killed. With nothing in flight, there is nothing to cut.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from os import EX_OK
from pathlib import Path
from typing import Any

from celery import bootsteps, signals
from celery.worker import state

from laravel_queue.manager import manager_for_app
from laravel_queue.worker.mover import consumed_queues

logger = logging.getLogger("laravel_queue.worker")

CHECK_INTERVAL = 0.25
EXIT_MEMORY_LIMIT = 12  # Laravel: Worker::$memoryExceededExitCode


@dataclass
class StopState:
    """Why this worker process is stopping ("" while it is not)."""

    reason: str = ""
    received: int = 0
    started_at: float = 0.0
    empty_checks: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_MEMORY_LIMIT if self.reason == "memory" else 0


stop_state = StopState()


class StopConditions(bootsteps.StartStopStep):  # type: ignore[misc]
    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None
        self.consumer: Any = None

    def start(self, c: Any) -> None:
        options = manager_for_app(c.app).worker_options
        if not options.managed:
            return  # a stock `celery worker`: Celery's own rules apply
        self.consumer = c
        stop_state.started_at = time.monotonic()
        signals.task_received.connect(self._on_received, weak=False)
        self.tref = c.timer.call_repeatedly(CHECK_INTERVAL, self._check, (c, options), priority=1)

    def stop(self, c: Any) -> None:
        signals.task_received.disconnect(self._on_received)
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def _on_received(self, request: Any = None, **_: Any) -> None:
        limit = manager_for_app(self.consumer.app).worker_options.job_limit
        stop_state.received += 1
        if limit and stop_state.received >= limit:
            stop_taking(self.consumer, "max_jobs")

    def _check(self, c: Any, options: Any) -> None:
        busy = bool(state.active_requests or state.reserved_requests)
        if stop_state.reason:
            if not busy:
                self._shut_down()
            return
        if options.max_time and time.monotonic() - stop_state.started_at >= options.max_time:
            stop_taking(c, "max_time")
        elif options.memory and peak_rss_mb() >= options.memory:
            stop_taking(c, "memory")
        elif options.stop_when_empty:
            empty = not busy and all(_pending(c, q) == 0 for q in consumed_queues(c))
            stop_state.empty_checks = stop_state.empty_checks + 1 if empty else 0
            # Twice in a row, so a message fetched but not yet a request is not missed.
            if stop_state.empty_checks >= 2:
                stop_taking(c, "empty")

    def _shut_down(self) -> None:
        # What Celery's SIGTERM handler does: the consumer loop sees it and performs a warm
        # shutdown, with no job left running or half-handed to the pool.
        state.should_stop = EX_OK
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None


def stop_taking(c: Any, reason: str) -> None:
    """Take no more messages; an `lq work` worker shuts down once the taken ones are done
    (Laravel's stop reasons: `max_jobs`, `max_time`, `memory`, `empty`, `restart_signal`)."""
    if stop_state.reason:
        return
    stop_state.reason = reason
    logger.info("worker stopping: %s", reason)
    for queue in consumed_queues(c):
        c.cancel_task_queue(queue)


def _pending(c: Any, queue: str) -> int:
    """Jobs this worker could still take: pending, plus delayed ones that are due (Laravel
    migrates those before each pop) — or all delayed ones with `wait_for_delayed`."""
    manager = manager_for_app(c.app)
    connection = manager.connection_for_app(c.app)
    options = manager.worker_options
    if options.wait_for_delayed:
        delayed = manager.delayed.size(connection.name, queue)
    else:
        delayed = manager.delayed.due_size(connection.name, queue, time.time())
    return connection.pending_size(queue) + delayed


def peak_rss_mb() -> float:
    """Resident memory of the largest process of this worker (main or pool child), in MB."""
    me = os.getpid()
    try:
        children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    except OSError:
        children = []
    return max(_rss_mb(pid) for pid in [me, *map(int, children)])


def _rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)

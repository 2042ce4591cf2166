"""Bootstep: pause, resume and restart requests, and the `Looping` event, on every worker.

Laravel's worker reads the pause flags and the restart timestamp from the cache before each
pop. A Celery worker has no loop of its own to hook, so this step polls on the consumer's
timer every `POLL_SECONDS` in the worker's main process, one cache read per poll:

- a paused queue is cancelled on the consumer (no new job is taken from it; jobs already
  taken finish), and consumed again once resumed, in the worker's original queue order;
- a restart requested after this worker started stops it like `--max-jobs` does: take
  nothing more, finish what was taken, exit 0 for the supervisor to start it again (`lq
  work` only; a stock `celery worker` has no supervisor contract and ignores it);
- `Looping` fires once per poll; a listener that returns `False` holds every queue until a
  poll where none does (Laravel: the worker skips that iteration).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.worker import state

from laravel_queue import events
from laravel_queue.connections.pausing import Interruptions, Snapshot
from laravel_queue.jobs.options import WorkerOptions
from laravel_queue.manager import manager_for_app
from laravel_queue.runtime import worker_pausing
from laravel_queue.worker.mover import consumed_queues
from laravel_queue.worker.steps import RepeatingStep
from laravel_queue.worker.stop import stop_state, stop_taking

logger = logging.getLogger("laravel_queue.worker")

POLL_SECONDS = 0.5
IDLE_EVERY_SECONDS = 3.0  # Laravel's --sleep default


class InterruptionPolling(RepeatingStep):
    timer_priority = 2
    doing = "reading the pause and restart flags"

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.queues: list[str] = []
        self.held: tuple[str, ...] = ()
        self.started_seen: float | None = None
        self.first = True
        self.idle_said = 0.0  # when WorkerIdle last fired (monotonic); 0 while busy
        self.paused = False  # by SIGUSR2, until SIGCONT

    def interval(self, c: Any) -> float:
        return POLL_SECONDS

    def start(self, c: Any) -> None:
        # On a reconnect the consumer starts again; keep the worker's own order and the
        # restart time it saw first.
        if not self.queues:
            self.queues = consumed_queues(c)
        self.held = ()
        self.run_tick(c)  # before the first message is taken: a paused queue is never touched
        super().start(c)

    def tick(self, c: Any) -> None:
        if stop_state.reason:
            return  # stopping: nothing is consumed again
        manager = manager_for_app(c.app)
        connection = manager.connection_for_app(c.app).name
        snapshot = Interruptions(manager.cache).snapshot()
        if self._restart_requested(snapshot) and manager.worker_options.managed:
            stop_taking(c, "restart_signal")
            return
        looping = events.Looping(connection, ",".join(self.queues))
        go_on = events.dispatch(looping) is not False
        options = manager.worker_options
        self._follow_pause_signals(connection, options)
        self._say_when_idle(connection, options)
        why = "paused"
        if self.paused:
            go_on, why = False, "held: the worker is paused (SIGUSR2; SIGCONT resumes it)"
        elif not go_on:
            why = "held by a Looping listener that returned False"
        held = tuple(q for q in self.queues if not go_on or snapshot.is_paused(connection, q))
        if held != self.held and self._consume(c, [q for q in self.queues if q not in held]):
            for queue in set(held) - set(self.held):
                logger.info("queue %s %s: taking no new jobs", queue, why)
            for queue in set(self.held) - set(held):
                logger.info("queue %s resumed", queue)
            self.held = held

    def _follow_pause_signals(self, connection: str, options: WorkerOptions) -> None:
        """SIGUSR2 pauses the whole worker, SIGCONT resumes it (Laravel 13), said with
        `WorkerPausing`/`WorkerResuming` once per change."""
        wanted = worker_pausing.requested.paused
        if wanted == self.paused:
            return
        self.paused = wanted
        queue = ",".join(self.queues)
        kind = events.WorkerPausing if wanted else events.WorkerResuming
        logger.info("worker %s", "pausing: taking no new jobs" if wanted else "resuming")
        events.dispatch(kind(connection, queue, options))

    def _say_when_idle(self, connection: str, options: WorkerOptions) -> None:
        """`WorkerIdle` while the worker runs and holds no job, every `--sleep` seconds (3 by
        default), as Laravel's worker fires it before each sleep after an empty pop."""
        if state.active_requests or state.reserved_requests:
            self.idle_said = 0.0
            return
        if state.should_stop not in (None, False) or state.should_terminate not in (None, False):
            return  # shutting down: no longer waiting for work
        now = time.monotonic()
        if now - self.idle_said >= (options.sleep or IDLE_EVERY_SECONDS):
            self.idle_said = now
            events.dispatch(events.WorkerIdle(connection, ",".join(self.queues), options))

    def _restart_requested(self, snapshot: Snapshot) -> bool:
        if self.first:
            self.first = False
            self.started_seen = snapshot.restart_requested_at
            return False
        return snapshot.restart_requested_at != self.started_seen

    @staticmethod
    def _consume(c: Any, wanted: list[str]) -> bool:
        """Consume exactly `wanted`, in order: a queue consumed again goes back to its place,
        so strict queue order (`--queue high,default`) survives a pause."""
        current = consumed_queues(c)
        if current == wanted:
            return True
        try:
            for queue in current:
                c.cancel_task_queue(queue)
            for queue in wanted:
                c.add_task_queue(queue)
        except Exception:
            logger.warning("could not change the consumed queues; will retry", exc_info=True)
            return False
        return True

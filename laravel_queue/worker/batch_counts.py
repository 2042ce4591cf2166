"""Batched jobs' successes, counted by the worker's main process, many in one transaction.

Laravel counts a batched job's success in the worker right after the job (`Batch::
recordSuccessfulJob`). Done the same way in a Celery pool process, the process waits for one
database round trip after every batched job before it can take the next, which on a busy
database halves a batch's throughput. Here the pool process only runs the job:

1. When the main process receives a batched job (`celery_app.request.JobRequest`), it marks
   the delivery `SUCCESS_COUNTED_BY_WORKER`, so the pool process leaves a success to it (a
   failure the pool process still counts itself, at once, with its `catch` and the cancel;
   and a batch with `progress` callbacks counts in its jobs, so they fire in order, as in
   Laravel).
2. When the job ends as a success (done, or deleted), its acknowledgement is held: the
   `BatchCounter` thread gathers what ended for `COUNT_EVERY_SECONDS` and counts each
   batch's successes in one transaction (`batch_outcomes.count_successes`: bounded by the
   store timeout, spooled while the database is down).
3. Then, on the event loop, the messages are acknowledged. The callbacks a count calls for
   (`progress`, `then`, `finally`) run in a `BatchCallbacks` job on the same queue, in a pool
   process like any user code, never in the main process.

Nothing is lost or counted twice: a message is acknowledged only after its success is
counted (or spooled), and counts are keyed on the job's uuid, so a worker killed in between
has the message delivered again: the job runs again and still counts once. A held message
keeps its place in the prefetch window no longer (the consumer's prefetch is raised for it,
as Celery does for a task with an ETA) and counts as running when the channel closes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from functools import partial
from typing import Any

from celery import Celery

from laravel_queue.bus.batch_outcomes import DueCallbacks, count_successes, fire_due_callbacks
from laravel_queue.celery_app.request import JobRequest, counters
from laravel_queue.dispatchable import Job
from laravel_queue.manager import manager_for_app
from laravel_queue.transport.envelope import held_delivery_tags
from laravel_queue.worker.steps import RepeatingStep

logger = logging.getLogger("laravel_queue.worker")

COUNT_EVERY_SECONDS = 0.02
"""How long the counter gathers ended jobs before one count: at most this much later an
acknowledgement, and one transaction per batch for everything that ended meanwhile."""

ACK_EVERY_SECONDS = 0.01
"""How often the event loop acknowledges what was counted (the consumer's timer)."""

HELD_LIMIT = 64
"""The most successes a worker holds beyond its prefetch while they wait to be counted. Each
held message raises the prefetch by one, so the pool goes on while a count is made; past
this many the prefetch stays, and the worker takes no new job until a count is acknowledged.
A worker killed with counts held runs those jobs again (each still counts once), so this,
plus the jobs running, is what one kill can re-run, however slow the database is."""


class BatchCallbacks(Job):
    """Runs what a count made by the worker's main process called for: `BatchStarted` and
    the batch's `progress`, `then` and `finally` callbacks, in a pool process like any job.

    `tries = 1`: a worker killed while it runs sends it to `failed_jobs` (to retry by hand)
    instead of running the callbacks twice.
    """

    tries = 1

    def __init__(self, due: DueCallbacks) -> None:
        self.due = due

    def __getstate__(self) -> dict[str, Any]:
        """The state as messages and `failed_jobs` rows have always carried it (`started`
        since 13's `BatchStarted`; absent in older rows)."""
        due = self.due
        return {
            "batch_id": due.batch_id,
            "progress": due.progress,
            "then": due.then,
            "finally_": due.finally_,
            "started": due.started,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.due = DueCallbacks(
            state["batch_id"],
            progress=state["progress"],
            then=state["then"],
            finally_=state["finally_"],
            started=bool(state.get("started", False)),
        )

    def handle(self) -> None:
        fire_due_callbacks(self.manager, self.due)


class BatchCounter:
    """Counts held successes in a thread; `acknowledge_counted` runs on the event loop."""

    def __init__(self, app: Celery, qos: Any) -> None:
        self.app = app
        self.manager = manager_for_app(app)
        self.qos = qos
        self.accepting = True
        self._lock = threading.Lock()
        self._ended: list[JobRequest] = []  # succeeded, not counted yet
        self._beyond_prefetch = 0  # held messages that raised the prefetch (<= HELD_LIMIT)
        self._warm = False  # the SQL store loaded (`_warm_up`)
        self._settled: deque[tuple[JobRequest, bool]] = deque()  # (request, counted)
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lq-batch-counts", daemon=True)
        self._thread.start()

    def hold(self, request: JobRequest) -> None:
        with self._lock:
            if self.accepting:
                held_delivery_tags.add(request.delivery_tag)
                request._lq_took_a_slot = self._beyond_prefetch < HELD_LIMIT
                if request._lq_took_a_slot:
                    self._beyond_prefetch += 1
                    self.qos.increment_eventually()
                self._ended.append(request)
                self._wake.set()
                return
        # The consumer is stopping (a warm shutdown, a lost connection): count it here.
        if self._count([request]):
            request.acknowledge_now()
        else:
            request.reject(requeue=True)

    def acknowledge_counted(self) -> None:
        """Acknowledge what was counted (a message whose count could be neither written nor
        spooled goes back to its queue, to run and count again)."""
        while self._settled:
            request, counted = self._settled.popleft()
            if counted:
                request.acknowledge_now()
            else:
                request.reject(requeue=True)
            held_delivery_tags.discard(request.delivery_tag)
            if request._lq_took_a_slot:
                with self._lock:
                    self._beyond_prefetch -= 1
                self.qos.decrement_eventually()

    def stop(self) -> None:
        """Count what is held, acknowledge it, and take no more (`hold` then counts at once)."""
        with self._lock:
            self.accepting = False
            self._wake.set()
        self._thread.join(timeout=2 * self.manager.store_timeout + 1)
        self.acknowledge_counted()

    def expect_counts(self) -> None:
        """A batched job was received: load the store now, while it runs (`_warm_up`)."""
        if not self._warm:
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if not self._warm and self.accepting:  # not for a stop: it counts what it must
                self._warm_up()
            time.sleep(COUNT_EVERY_SECONDS)  # let more jobs end: one count for them all
            with self._lock:
                ended, self._ended = self._ended, []
                self._wake.clear()
                stopping = not self.accepting
            counted = self._count(ended)
            self._settled.extend((request, counted) for request in ended)
            if stopping:
                return

    def _warm_up(self) -> None:
        """Load the SQL store and check the schema when the first batched job arrives, while
        it runs: done by the first count, it took half a second or more (SQLAlchemy's import,
        the migrations' check), and a fresh worker's held jobs piled up meanwhile. Not at
        start: a worker that never counts a batch would carry ~37 MB more for nothing."""
        self._warm = True
        try:
            self.manager.batches.find("")
        except Exception as exc:  # the database is down: the first count will spool
            logger.debug("the batches store could not be loaded yet: %r", exc)

    def _count(self, ended: list[JobRequest]) -> bool:
        """Count `ended`, a transaction per batch, and queue the callbacks due; False when a
        count could be neither written nor spooled."""
        by_batch: dict[str, list[JobRequest]] = defaultdict(list)
        for request in ended:
            by_batch[request.batch_id].append(request)
        ok = True
        for batch_id, requests in by_batch.items():
            uuids = [request.job_uuid for request in requests]
            queue = (requests[-1].delivery_info or {}).get("routing_key")
            try:
                # bound now: a slow count hands its callbacks over from its own thread, later
                on_due = partial(self._queue_callbacks, queue=queue)
                count_successes(self.manager, batch_id, uuids, on_due)
            except Exception:  # neither written nor spooled
                logger.exception("batch %s: %d success(es) not counted", batch_id, len(uuids))
                ok = False
        return ok

    def _queue_callbacks(self, due: DueCallbacks, queue: str | None) -> None:
        """The callbacks go to the queue the job came from, which this worker consumes."""
        job = BatchCallbacks(due)
        try:
            self.manager.connection_for_app(self.app).push(job, queue=queue)
        except Exception:
            logger.exception("batch %s: its callbacks could not be queued", due.batch_id)


class BatchCounts(RepeatingStep):
    """Consumer bootstep: the `BatchCounter` of this worker, acknowledging on the timer."""

    timer_priority = 1
    doing = "acknowledging counted batch jobs"

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.counter: BatchCounter | None = None

    def interval(self, c: Any) -> float:
        return ACK_EVERY_SECONDS

    def start(self, c: Any) -> None:
        self.counter = counters[id(c.app)] = BatchCounter(c.app, c.qos)
        super().start(c)

    def tick(self, c: Any) -> None:
        if self.counter is not None:
            self.counter.acknowledge_counted()

    def stop(self, c: Any) -> None:
        super().stop(c)
        counter, self.counter = self.counter, None
        if counter is not None:
            counters.pop(id(c.app), None)
            counter.stop()

    def terminate(self, c: Any) -> None:
        """A cold shutdown too acknowledges what it can count (bounded by the store timeout)."""
        self.stop(c)

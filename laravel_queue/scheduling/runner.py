"""The scheduler: dispatch each event at each of its due times (`lq schedule:work`,
`lq schedule:run`, `lq work --with-scheduler`).

No leader: every scheduler evaluates every event. An `on_one_server()` event's due time is
claimed with an atomic `add` in the cache store, keyed by the event and the due time, so of
any number of schedulers on any number of machines exactly one dispatches it (Laravel's
`onOneServer`, keyed by the second here so sub-minute events are claimed too). A scheduler
that runs evaluates every second since its last pass, so a slow pass never skips a due time;
a scheduler that was stopped does not make up for the time it was down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from laravel_queue import events
from laravel_queue.connections.pausing import CONTROL
from laravel_queue.exceptions import ConfigurationError, describe
from laravel_queue.manager import QueueManager
from laravel_queue.scheduling.event import ScheduledEvent

logger = logging.getLogger("laravel_queue.schedule")

CLAIM_TTL_SECONDS = 3600  # Laravel's onOneServer keeps its claim an hour
PAUSED = "schedule:paused"  # a field of the control hash every worker already reads
LONGEST_PASS_SECONDS = 3600.0  # a pass evaluates at most this far back

Outcome = Literal[
    "dispatched", "held back", "skipped", "claimed elsewhere", "overlapping", "failed"
]
CHECK_SECONDS = 10.0  # how long the overlap check of one due time may hold its lock


@dataclass(frozen=True)
class Run:
    """What became of one event at one due time."""

    event: ScheduledEvent
    due_at: float
    outcome: Outcome
    job_id: str | None = None


class Scheduler:
    """Dispatches `events` (the declared ones by default) through `manager`."""

    def __init__(
        self,
        manager: QueueManager,
        scheduled: Sequence[ScheduledEvent],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.manager = manager
        self.events = list(scheduled)
        self.clock = clock
        # The job each held-back event waits for, as last logged: said once per job, not
        # once a second.
        self._holding: dict[str, str] = {}

    # -- pausing (Laravel 13: schedule:pause / schedule:resume) ----------------------------

    def pause(self) -> None:
        self.manager.cache.put_field(CONTROL, PAUSED, repr(self.clock()))

    def resume(self) -> None:
        self.manager.cache.forget_field(CONTROL, PAUSED)

    def is_paused(self) -> bool:
        return PAUSED in self.manager.cache.fields(CONTROL)

    # -- running ---------------------------------------------------------------------------

    def due(self, after: float, until: float) -> list[tuple[float, ScheduledEvent]]:
        """Every (due time, event) in (`after`, `until`], in time order."""
        after = max(after, until - LONGEST_PASS_SECONDS)
        found = [(at, event) for event in self.events for at in event.due_times(after, until)]
        return sorted(found, key=lambda pair: pair[0])

    def run_due(self, after: float, until: float) -> list[Run]:
        """Dispatch what is due in (`after`, `until`]; nothing while paused."""
        if self.is_paused():
            return []
        return [self.run(event, at) for at, event in self.due(after, until)]

    def run(self, event: ScheduledEvent, due_at: float, *, catching_up: bool = False) -> Run:
        """One due time of one event: its conditions, its claim, its overlap check, its
        dispatch and events. A catch-up is claimed whatever the event (one run, however
        many schedulers start)."""
        if not event.filters_pass():
            events.dispatch(events.ScheduledTaskSkipped(event, due_at))
            return Run(event, due_at, "skipped")
        if (event.one_server or catching_up) and not self._claim(event, due_at):
            return Run(event, due_at, "claimed elsewhere")
        if event.overlap_expires is None:
            return self._dispatch(event, due_at)
        # One scheduler at a time reads the last job's status and dispatches the next.
        check = self.manager.cache.lock(f"{event.mutex_name}:overlap-check", CHECK_SECONDS)
        deadline = time.monotonic() + CHECK_SECONDS
        while not check.acquire():
            if time.monotonic() > deadline:
                return Run(event, due_at, "overlapping")
            time.sleep(0.02)
        try:
            waiting_for = self._unfinished_last_job(event)
            if waiting_for is not None:
                if self._holding.get(event.mutex_name) != waiting_for:
                    self._holding[event.mutex_name] = waiting_for
                    logger.info(
                        "scheduled %s held back until its last job %s finishes",
                        event.description,
                        waiting_for,
                    )
                return Run(event, due_at, "overlapping")
            run = self._dispatch(event, due_at)
            if run.job_id is not None:
                self.manager.cache.put(
                    f"{event.mutex_name}:last", run.job_id, event.overlap_expires
                )
            return run
        finally:
            check.release()

    def _unfinished_last_job(self, event: ScheduledEvent) -> str | None:
        """The id of the job the event dispatched last if it has not finished, by its
        status."""
        status_store = self.manager.status
        if status_store is None:
            raise ConfigurationError(
                f"{event.description}: without_overlapping() reads the last job's status; "
                "turn job tracking on (QueueManager(status_ttl=...) > 0)"
            )
        last = self.manager.cache.get(f"{event.mutex_name}:last")
        status = status_store.find(last) if last else None
        return last if status is not None and not status.finished else None

    def _dispatch(self, event: ScheduledEvent, due_at: float) -> Run:
        events.dispatch(events.ScheduledTaskStarting(event, due_at))
        started = time.perf_counter()
        try:
            job_id = event.dispatch(self.manager)
        except Exception as exc:
            logger.error(
                "scheduled %s could not be dispatched: %s", event.description, describe(exc)
            )
            events.dispatch(events.ScheduledTaskFailed(event, due_at, exc))
            return Run(event, due_at, "failed")
        runtime = time.perf_counter() - started
        events.dispatch(events.ScheduledTaskFinished(event, due_at, runtime, job_id))
        if job_id is None:
            logger.info("scheduled %s held back: its unique lock is held", event.description)
            return Run(event, due_at, "held back")
        logger.info("scheduled %s dispatched as %s", event.description, job_id)
        if event.catch_up_within is not None:
            self.manager.cache.put(
                f"{event.mutex_name}:last-due", repr(due_at), event.catch_up_within + 3600
            )
        return Run(event, due_at, "dispatched", job_id)

    def catch_up(self, now: float) -> list[Run]:
        """At start: each `catch_up()` event whose last due time, within its window, no
        scheduler dispatched, dispatched once now (for that due time)."""
        runs = []
        for event in self.events:
            if event.catch_up_within is None:
                continue
            missed = event.previous_due(now)
            if now - missed > event.catch_up_within:
                continue
            last = self.manager.cache.get(f"{event.mutex_name}:last-due")
            if last is None or float(last) < missed:
                logger.info(
                    "scheduled %s catching up its run due at %s",
                    event.description,
                    event.moment(missed).strftime("%Y-%m-%d %H:%M:%S %Z"),
                )
                runs.append(self.run(event, missed, catching_up=True))
        return runs

    def _claim(self, event: ScheduledEvent, due_at: float) -> bool:
        key = f"{event.mutex_name}:{int(due_at)}"
        return self.manager.cache.add(key, "1", CLAIM_TTL_SECONDS)

    def run_minute(self) -> list[Run]:
        """`lq schedule:run`, from a system cron each minute: what is due this minute so far;
        with sub-minute events, the rest of the minute too, second by second (as Laravel's
        schedule:run does)."""
        now = self.clock()
        minute = now - now % 60
        runs = [] if self.is_paused() else self.catch_up(minute - 1)
        runs += self.run_due(minute - 1, now)
        if any(event.fields[0] != "0" for event in self.events):
            self.work(threading.Event(), after=now, until=minute + 59, on_run=runs.append)
        return runs

    def work(
        self,
        stop: threading.Event,
        *,
        after: float | None = None,
        until: float | None = None,
        on_run: Callable[[Run], object] | None = None,
    ) -> None:
        """`lq schedule:work`: a pass at each whole second until `stop` is set (or `until`);
        each pass covers every second since the one before."""
        last = float(int(self.clock())) if after is None else after
        if after is None and not self.is_paused():
            for run in self.catch_up(last):
                if on_run is not None:
                    on_run(run)
        while not stop.wait(1.0 - self.clock() % 1.0):
            now = float(int(self.clock()))
            if until is not None:
                now = min(now, until)
            if now > last:
                try:
                    runs = self.run_due(last, now)
                except Exception as exc:  # the cache store is away: try again next second
                    logger.warning("schedule pass failed: %s", describe(exc))
                    continue
                last = now
                for run in runs:
                    if on_run is not None:
                        on_run(run)
            if until is not None and now >= until:
                return

"""One scheduled event: what it dispatches, when it is due, and what must hold for it to run
(Laravel: Illuminate\\Console\\Scheduling\\Event, for jobs and callbacks only: the scheduler
dispatches, a worker runs).
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable, Iterator
from datetime import datetime, time, timezone
from typing import TypeVar

from cronsim import CronSim

from laravel_queue.bus.dispatcher import Dispatcher
from laravel_queue.bus.host import BusHost
from laravel_queue.durations import Delay, to_seconds
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.scheduling.frequencies import Frequencies, parse_time

E = TypeVar("E", bound="ScheduledEvent")
DEFAULT_OVERLAP_EXPIRY = 24 * 3600.0  # Laravel: 1440 minutes
Condition = Callable[[], bool]


class ScheduledEvent(Frequencies):
    """`Schedule.job(...)` / `Schedule.call(...)`: chain the frequency and the conditions."""

    def __init__(self, job: Queueable, description: str) -> None:
        super().__init__()
        self.job = job
        self.description = description
        self.one_server = False
        self.queue: str | None = None
        self.connection: str | None = None
        self._when: list[Condition] = []
        self._skip: list[Condition] = []
        self.overlap_expires: float | None = None  # seconds, with without_overlapping()
        self.catch_up_within: float | None = None  # seconds, with catch_up()

    def name(self: E, description: str) -> E:
        """A name of its own (Laravel: `->name()`); what `lq schedule:test NAME` finds."""
        self.description = description
        return self

    @property
    def mutex_name(self) -> str:
        """What the claims of this event are keyed by (Laravel: `schedule-` + sha1 of the
        expression and the command)."""
        digest = hashlib.sha1(f"{self.expression}{self.description}".encode()).hexdigest()
        return f"schedule-{digest}"

    # -- options ---------------------------------------------------------------------------

    def on_one_server(self: E) -> E:
        """Each due time is dispatched by one scheduler only, however many run: the first to
        claim it in the cache store."""
        self.one_server = True
        return self

    def without_overlapping(self: E, expires_at: Delay = DEFAULT_OVERLAP_EXPIRY) -> E:
        """Not dispatched again while the job it dispatched last has not finished (pending,
        delayed, running or released to try again), as its status says; the hold expires
        after `expires_at` (24 hours by default), so a job whose worker died holds nothing
        for ever. Needs job tracking (`status_ttl`, on by default)."""
        self.overlap_expires = to_seconds(expires_at)
        return self

    def catch_up(self: E, within: Delay) -> E:
        """When a scheduler starts and the event's last due time, no more than `within` ago,
        was not dispatched (no scheduler was running then), dispatch it once, now. Neither
        Laravel nor Celery beat does this."""
        self.catch_up_within = to_seconds(within)
        return self

    def on_queue(self: E, queue: str) -> E:
        self.queue = queue
        return self

    def on_connection(self: E, connection: str) -> E:
        self.connection = connection
        return self

    def when(self: E, condition: Condition) -> E:
        """Dispatch only when `condition()` is true at the due time."""
        self._when.append(condition)
        return self

    def skip(self: E, condition: Condition) -> E:
        """Do not dispatch when `condition()` is true at the due time."""
        self._skip.append(condition)
        return self

    def between(self: E, start: str, end: str) -> E:
        """Only from `start` to `end` (`"8:00"`, `"17:00"`) in the event's time zone; an
        interval past midnight (`"22:00"`, `"6:00"`) works too."""
        inside = self._interval(start, end)
        return self.when(inside)

    def unless_between(self: E, start: str, end: str) -> E:
        inside = self._interval(start, end)
        return self.skip(inside)

    def _interval(self, start: str, end: str) -> Condition:
        first, last = time(*parse_time(start)), time(*parse_time(end))

        def inside() -> bool:
            now = datetime.now(self.zone or timezone.utc).time()
            return first <= now <= last if first <= last else (now >= first or now <= last)

        return inside

    # -- running ---------------------------------------------------------------------------

    def moment(self, at: float) -> datetime:
        """Unix time `at` on the event's clock (its zone, UTC by default)."""
        return datetime.fromtimestamp(at, self.zone or timezone.utc)

    def due_times(self, after: float, until: float) -> Iterator[float]:
        """Each due time in (`after`, `until`], unix seconds, read in the event's zone."""
        start = self.moment(after)
        for moment in CronSim(self.cron_expression, start):
            at = moment.timestamp()
            if at > until:
                return
            if at > after:
                yield at

    def previous_due(self, before: float) -> float:
        """The last due time at or before `before`."""
        start = self.moment(math.floor(before) + 1)  # cronsim: strictly before
        return next(CronSim(self.cron_expression, start, reverse=True)).timestamp()

    def next_due(self, after: float) -> float:
        return next(iter(self.due_times(after, float("inf"))))

    def filters_pass(self) -> bool:
        return all(condition() for condition in self._when) and not any(
            condition() for condition in self._skip
        )

    def dispatch(self, manager: BusHost) -> str | None:
        """A fresh copy of the job, on the event's queue and connection; its uuid (None when
        a unique job's lock held it back)."""
        job = copy.deepcopy(self.job)
        if self.queue is not None:
            job.on_queue(self.queue)
        if self.connection is not None:
            job.on_connection(self.connection)
        return Dispatcher(manager).dispatch(job)

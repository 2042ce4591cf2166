"""The metrics of one worker process, aggregated in memory and written at most once a second.

A run costs a dictionary look-up and two sketch insertions under a lock, never a round trip:
a background thread of the process writes what changed once per `FLUSH_SECONDS` (each
minute's tallies whole, and the totals' increments), so the store sees one write a second per
busy process whatever its rate. A store that is down or hangs delays the thread, never a job;
a failed write loses at most the totals' increments of that interval (the minute tallies are
written whole again by the next write), and is logged once until a write succeeds again.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Iterable

from laravel_queue.metrics.series import Outcome, Series, Tally
from laravel_queue.metrics.store import MEASURES, MetricsStore, Total

logger = logging.getLogger("laravel_queue")

_INDEX = {measure: i for i, measure in enumerate(MEASURES)}
_RUNTIME, _WAIT = _INDEX["runtime_us"], _INDEX["wait_us"]

FLUSH_SECONDS = 1.0
TAGS_REFRESH_SECONDS = 5.0
"""How soon a tag newly monitored (or no longer) changes what the workers record."""
KEEP_MINUTES = 2
"""Tallies of minutes older than this are dropped once written (or when the store is down)."""


class MetricsRecorder:
    def __init__(self, store: MetricsStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._tallies: dict[tuple[int, Series], Tally] = {}
        self._changed: set[tuple[int, Series]] = set()
        self._series: dict[tuple[str, str, str], Series] = {}
        # Each series' increments of the totals since the last write, by `MEASURES` index.
        self._totals: dict[Series, list[int]] = {}
        self._monitored: frozenset[str] = frozenset()
        self._tags_read_at = float("-inf")
        self._pid = 0
        self._process = ""
        self._failing = False
        self._exit_hook = False
        # A child forked while the parent's thread held the lock would wait for it forever.
        forget = weakref.WeakMethod(self._forget_parent)
        os.register_at_fork(after_in_child=lambda: (method := forget()) and method())

    def _forget_parent(self) -> None:
        self._lock = threading.Lock()
        self._tallies, self._changed, self._totals = {}, set(), {}
        self._tags_read_at = float("-inf")

    def record(
        self,
        connection: str,
        queue: str,
        job: str,
        outcome: Outcome,
        runtime: float,
        wait: float,
        tags: Iterable[str] = (),
    ) -> None:
        """One run that ended with `outcome`, after `runtime` seconds, `wait` seconds after
        the job became available; also in the series of each of its `tags` that is monitored."""
        names = (connection, queue, job)
        minute = int(time.time() // 60)
        with self._lock:
            if self._pid != os.getpid():
                self._start()
            series = self._series.get(names)
            if series is None:
                series = self._series[names] = Series(connection, queue, job)
            self._tally(minute, series).record(outcome, runtime, wait)
            if self._monitored:
                for tag in self._monitored.intersection(tags):
                    self._tally(minute, Series(connection, queue, job, tag)).record(
                        outcome, runtime, wait
                    )
            totals = self._totals.get(series)
            if totals is None:
                totals = self._totals[series] = [0] * len(MEASURES)
            totals[_INDEX[outcome]] += 1
            totals[_RUNTIME] += round(runtime * 1e6)
            totals[_WAIT] += round(wait * 1e6)

    def _tally(self, minute: int, series: Series) -> Tally:
        key = (minute, series)
        self._changed.add(key)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = Tally()
        return tally

    def _start(self) -> None:
        self._pid = os.getpid()
        # A process id is reused; a token keeps a restarted process off a dead one's fields.
        self._process = f"{socket.gethostname()}:{self._pid}:{secrets.token_hex(3)}"
        threading.Thread(target=self._run, name="lq-metrics", daemon=True).start()
        if not self._exit_hook:
            self._exit_hook = True
            atexit.register(self.flush)

    def _run(self) -> None:
        pid = self._pid
        self._refresh_tags()  # here, not in the job's thread: a store that hangs holds no job
        while pid == os.getpid():
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        """Write what changed since the last write (the thread's tick, and at exit)."""
        self._refresh_tags()
        minute_now = int(time.time() // 60)
        with self._lock:
            if not (self._changed or self._totals):
                return
            changed, self._changed = self._changed, set()
            minutes: dict[int, dict[str, str]] = {}
            for minute, series in changed:
                tally = self._tallies[(minute, series)]
                minutes.setdefault(minute, {})[series.field(self._process)] = tally.to_json()
            totals = {
                Total(measure, series): amounts[i]
                for series, amounts in self._totals.items()
                for i, measure in enumerate(MEASURES)
            }
            self._totals = {}
            for key in [key for key in self._tallies if key[0] < minute_now - KEEP_MINUTES]:
                del self._tallies[key]
        try:
            self.store.write(minutes, totals)
        except Exception as exc:  # metrics are worth less than a job: never raise
            with self._lock:  # written whole next time, if their minute is still kept
                self._changed.update(key for key in changed if key in self._tallies)
            if not self._failing:
                self._failing = True
                logger.warning("metrics not written (they are retried each second): %r", exc)
            return
        if self._failing:
            self._failing = False
            logger.warning("metrics are written again")

    def _refresh_tags(self) -> None:
        now = time.monotonic()
        if now - self._tags_read_at < TAGS_REFRESH_SECONDS:
            return
        self._tags_read_at = now
        try:
            self._monitored = frozenset(self.store.monitored())
        except Exception as exc:
            logger.debug("monitored tags not read: %r", exc)

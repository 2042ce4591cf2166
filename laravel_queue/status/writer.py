"""Writes that may wait a moment, made from a background thread of this process.

A job's status is written on the transitions a job goes through anyway, and only the ones a
reader needs in order are written at once (`StatusStore.record`). The rest may wait: that a
job was queued (the dispatch does not wait for a second round trip), that a job is running
(written only if it still runs a quarter of a second later, so a short job costs no write
for it), that it succeeded (nothing can follow it), and its progress (a tight loop of
`self.progress()` writes at most once per `MIN_INTERVAL_SECONDS`, always ending with the
last value). Waiting writes fall due at the end of a `WINDOW_SECONDS` window, so all that
falls due in one window goes in one round trip and the thread wakes at most once per window,
however many jobs a second the process runs. A later write for the same key replaces the
waiting one, and a write made at once drops it: the store never goes back.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from laravel_queue.status.record import JobStatus

logger = logging.getLogger("laravel_queue")

MIN_INTERVAL_SECONDS = 0.25
"""The least time between two waiting writes of one key."""
WINDOW_SECONDS = 0.05
"""Waiting writes fall due at the end of a window this long (monotonic clock)."""

Value = JobStatus | str
"""A status, or its JSON already (`record.queued_json`)."""
Write = Callable[[list[tuple[str, str, bool]]], None]
"""`write([(key, status JSON, only_if_absent), ...])`: what is due, in one call."""


@dataclass
class _Waiting:
    value: Value  # serialized when written: a value replaced meanwhile never is
    due: float
    only_if_absent: bool

    def text(self) -> str:
        return self.value if isinstance(self.value, str) else self.value.to_json()


class LaterWrites:
    """The waiting writes of one store in this process, and the thread that makes them."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._lock = threading.Condition()
        self._waiting: dict[str, _Waiting] = {}
        self._written_at: dict[str, float] = {}
        self._pid = 0  # the process whose thread runs (a forked child starts its own)
        self._wakes_at = 0.0  # when the thread wakes next, unless notified
        self._exit_hook = False
        # A pool process forked while this process's thread held the lock would wait for it
        # forever: a child starts with a fresh lock and nothing waiting.
        forget = weakref.WeakMethod(self._forget_parent)
        os.register_at_fork(after_in_child=lambda: (method := forget()) and method())

    def _forget_parent(self) -> None:
        self._wakes_at = 0.0
        self._lock = threading.Condition()
        self._waiting = {}
        self._written_at = {}

    def schedule(
        self, key: str, value: Value, *, delay: float = 0.0, only_if_absent: bool = False
    ) -> None:
        """Write `value` under `key` at the end of the window `delay` seconds from now, and no
        sooner than `MIN_INTERVAL_SECONDS` after this key's last waiting write; a write still
        waiting for `key` keeps its time and takes the new value."""
        with self._lock:
            self._own_thread()
            waiting = self._waiting.get(key)
            if waiting is not None:
                waiting.value, waiting.only_if_absent = value, only_if_absent
                return
            after_last = self._written_at.get(key, 0.0) + MIN_INTERVAL_SECONDS
            due = _window_end(max(time.monotonic() + delay, after_last))
            self._waiting[key] = _Waiting(value, due, only_if_absent)
            if due < self._wakes_at:  # else the thread wakes in time: no switch to it now
                self._wakes_at = due
                self._lock.notify()

    def schedule_many(self, values: Sequence[tuple[str, Value]], *, only_if_absent: bool) -> None:
        """`schedule` each `(key, value)` without delay, at once: a bulk dispatch's."""
        with self._lock:
            self._own_thread()
            due = _window_end(time.monotonic())
            for key, value in values:
                waiting = self._waiting.get(key)
                if waiting is not None:
                    waiting.value, waiting.only_if_absent = value, only_if_absent
                else:
                    self._waiting[key] = _Waiting(value, due, only_if_absent)
            if due < self._wakes_at:
                self._wakes_at = due
                self._lock.notify()

    def drop(self, key: str) -> None:
        """Forget what waits for `key` (a write made at once supersedes it)."""
        with self._lock:
            self._waiting.pop(key, None)
            self._written_at.pop(key, None)

    def waiting(self, key: str) -> JobStatus | None:
        """The value waiting to be written under `key`, if any."""
        with self._lock:
            waiting = self._waiting.get(key)
        if waiting is None:
            return None
        value = waiting.value
        return value if isinstance(value, JobStatus) else JobStatus.from_json(value)

    def flush(self) -> None:
        """Write everything that waits, now (before the process exits)."""
        self._write_due(float("inf"))

    def _own_thread(self) -> None:
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        threading.Thread(target=self._run, name="lq-status-writes", daemon=True).start()
        if not self._exit_hook:
            self._exit_hook = True
            atexit.register(self.flush)

    def _run(self) -> None:
        pid = self._pid
        while pid == os.getpid():
            with self._lock:
                now = time.monotonic()
                next_due = min((w.due for w in self._waiting.values()), default=now + 1.0)
                if next_due > now:
                    self._wakes_at = min(next_due, now + 1.0)
                    self._lock.wait(self._wakes_at - now)
                    continue
            self._write_due(now)

    def _write_due(self, upto: float) -> None:
        with self._lock:
            now = time.monotonic()
            due = [(key, w) for key, w in self._waiting.items() if w.due <= upto]
            for key, waiting in due:
                del self._waiting[key]
                if not waiting.only_if_absent:  # a job's first status: none came before it
                    self._written_at[key] = now
            if self._written_at:  # only recent writes hold the next one back
                cutoff = now - MIN_INTERVAL_SECONDS
                self._written_at = {k: t for k, t in self._written_at.items() if t > cutoff}
        if not due:
            return
        try:
            self._write([(key, w.text(), w.only_if_absent) for key, w in due])
        except Exception as exc:  # a status is worth less than the job: never raise
            logger.debug("%d status(es) not written: %r", len(due), exc)


def _window_end(moment: float) -> float:
    return math.ceil(moment / WINDOW_SECONDS) * WINDOW_SECONDS

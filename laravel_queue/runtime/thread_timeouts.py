"""Timeouts for jobs run on the `threads` pool, where Celery enforces no time limit.

A watchdog thread (one per process, started by the first job with a timeout) raises
Celery's `SoftTimeLimitExceeded` in a job's thread once its `timeout` has passed, with
CPython's `PyThreadState_SetAsyncExc`, so the run ends as a timeout as it would on prefork
(`TimeoutExceededError`, released or failed by the usual rules). That is as far as threads
allow: the exception is raised between two Python instructions, so a thread blocked in C —
a `time.sleep`, a socket read without a timeout — sees it only when that call returns, and
nothing can kill a thread that never returns (prefork's hard limit kills the process).
Async jobs keep their own timeout on their loop (`event_loops`).
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from celery.exceptions import SoftTimeLimitExceeded

CHECK_EVERY_SECONDS = 0.1

_deadlines: dict[int, float] = {}  # thread ident -> monotonic deadline
_lock = threading.Lock()
_watchdog: threading.Thread | None = None


@contextmanager
def limited(timeout: float) -> Iterator[None]:
    """Raise `SoftTimeLimitExceeded` in this thread after `timeout` seconds (0: never),
    unless it runs on the main thread (prefork and solo: Celery's own limits, or none)."""
    if timeout <= 0 or threading.current_thread() is threading.main_thread():
        yield
        return
    ident = threading.get_ident()
    with _lock:
        _deadlines[ident] = time.monotonic() + timeout
        _start_watchdog()
    try:
        yield
    finally:
        with _lock:  # the watchdog raises only while the deadline is registered
            _deadlines.pop(ident, None)


def _start_watchdog() -> None:
    global _watchdog
    if _watchdog is None or not _watchdog.is_alive():
        _watchdog = threading.Thread(target=_watch, name="lq-thread-timeouts", daemon=True)
        _watchdog.start()


def _watch() -> None:
    while True:
        time.sleep(CHECK_EVERY_SECONDS)
        now = time.monotonic()
        with _lock:
            for ident, deadline in list(_deadlines.items()):
                if now >= deadline:
                    del _deadlines[ident]
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(ident), ctypes.py_object(SoftTimeLimitExceeded)
                    )

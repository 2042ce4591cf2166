"""Calls to a store that give up waiting after a deadline.

Recording a failure must never wait for a database that accepts connections but answers
nothing: the write would outlast the job's time limit and the failure would be lost. Driver
timeouts do not cover that case on every driver (libpq has no read timeout), so the call runs
in a helper thread and the caller stops waiting after `seconds`, then spools instead. The
helper thread is a daemon left to finish or fail on its own: a hung database can hold it,
never the caller. Writes made this way are idempotent (upsert by uuid), so one that lands
late next to its spooled copy leaves one row.

Each calling thread keeps its helper between calls (a batched job counts its outcome this
way on every run, and starting a thread cost ~0.1 ms of it); a helper that overran its
deadline is given up, and the next call starts another.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

from ..exceptions import StoreTimeoutError

T = TypeVar("T")


def call_within(seconds: float, fn: Callable[[], T], what: str) -> T:
    """`fn()`, or `StoreTimeoutError` naming `what` if it has not returned after `seconds`."""
    helper: _Helper | None = getattr(_helpers, "helper", None)
    if helper is None or not helper.usable():
        helper = _helpers.helper = _Helper()
    return helper.call(seconds, fn, what)


_helpers = threading.local()  # each calling thread's helper


class _Helper:
    """A daemon thread running the calls of one calling thread, one at a time."""

    def __init__(self) -> None:
        self.pid = os.getpid()  # a forked child has no thread of its parent's
        self.given_up = False
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="lq-store-call", daemon=True)
        self._thread.start()

    def usable(self) -> bool:
        return not self.given_up and self.pid == os.getpid() and self._thread.is_alive()

    def call(self, seconds: float, fn: Callable[[], T], what: str) -> T:
        outcome: list[T] = []
        failure: list[BaseException] = []
        done = threading.Event()

        def run() -> None:
            try:
                outcome.append(fn())
            except BaseException as exc:
                failure.append(exc)
            finally:
                done.set()

        self._calls.put(run)
        if not done.wait(seconds):
            self.given_up = True  # still in `fn`: it ends with it, the next call gets another
            raise StoreTimeoutError(f"{what} did not answer within {seconds:g}s")
        if failure:
            raise failure[0]
        return outcome[0]

    def _serve(self) -> None:
        while not self.given_up:
            self._calls.get()()

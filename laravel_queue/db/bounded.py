"""Calls to a store that give up waiting after a deadline.

Recording a failure must never wait for a database that accepts connections but answers
nothing: the write would outlast the job's time limit and the failure would be lost. Driver
timeouts do not cover that case on every driver (libpq has no read timeout), so the call runs
in a helper thread and the caller stops waiting after `seconds`, then spools instead. The
helper thread is a daemon left to finish or fail on its own: a hung database can hold it,
never the caller. Writes made this way are idempotent (upsert by uuid), so one that lands
late next to its spooled copy leaves one row.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from laravel_queue.exceptions import StoreTimeoutError

T = TypeVar("T")


def call_within(seconds: float, fn: Callable[[], T], what: str) -> T:
    """`fn()`, or `StoreTimeoutError` naming `what` if it has not returned after `seconds`."""
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

    threading.Thread(target=run, name="lq-store-call", daemon=True).start()
    if not done.wait(seconds):
        raise StoreTimeoutError(f"{what} did not answer within {seconds:g}s")
    if failure:
        raise failure[0]
    return outcome[0]


def store_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the store could not be reached or did not answer (try again later)
    rather than that this one write is wrong (a value of the wrong type, a constraint): a
    spool drain puts the record back in the first case and sets it aside in the second."""
    if isinstance(exc, (StoreTimeoutError, OSError)):
        return True
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")  # loaded by whatever raised it
    if sqlalchemy_exc is None:
        return False
    if isinstance(exc, sqlalchemy_exc.DBAPIError) and exc.connection_invalidated:
        return True
    unavailable = (
        sqlalchemy_exc.OperationalError,  # refused, dropped, deadlocked: try again
        sqlalchemy_exc.InterfaceError,
        sqlalchemy_exc.DisconnectionError,
        sqlalchemy_exc.TimeoutError,  # the pool had no connection to give
    )
    return isinstance(exc, unavailable)

"""Dispatching from `async def` code (a FastAPI endpoint, an aiohttp handler) without
blocking its event loop: `await Job.dispatch_async(...)`, `await Queue.push_async(job)`.

A dispatch talks to the broker and the cache over blocking sockets (Kombu's and redis-py's),
so the awaitable runs it on a small pool of threads of its own, with the caller's context
variables (its OpenTelemetry span, for one), while the loop serves other requests. The pool
is its own, not the loop's default executor, so a burst of dispatches never queues behind
the app's other `to_thread` work, nor it behind them. A forked child starts a fresh pool.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

DISPATCH_THREADS = 4
"""Dispatches in flight at once per process. A dispatch is mostly Python work, which holds
the interpreter's lock the loop needs too: more threads overlap more broker round trips but
take the lock from the loop more often. Four served a FastAPI app about twice the requests of
a blocking `dispatch()` with a 1 ms broker, at a third of its loop lag (bench/fastapi_dispatch.py);
eight and sixteen lagged more for no more requests."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


async def off_the_loop(call: Callable[[], T]) -> T:
    """`call()` on a dispatch thread, awaited: the event loop runs on meanwhile."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(_dispatch_pool(), context.run, call)


def _dispatch_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(DISPATCH_THREADS, thread_name_prefix="lq-dispatch")
        return _pool


def _forget_pool_after_fork() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()  # the parent's threads are not in the child


os.register_at_fork(after_in_child=_forget_pool_after_fork)

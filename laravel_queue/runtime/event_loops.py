"""Running `async def` jobs: `async def handle()`, async `failed()` and async middleware.

Celery cannot run a coroutine task (celery#6552). A job's coroutine runs here on one event
loop per worker process — per thread on the `threads` pool — created at its first async job,
reused for every later one (so clients and connection pools the job keeps on the loop
survive between jobs), and closed when the process ends. The loop runs in the thread that
runs the job (`run_until_complete`), so a plain async job costs no thread switch.

An async middleware awaits `next(job)`: the rest of the pipeline then runs in a helper thread
of the loop's executor, and a coroutine reached there (the job's `handle()`) is handed back
to the loop, which is free while the middleware awaits. Sync middleware keeps its
wrap-around semantics on both sides.

Timeouts: a coroutine is cancelled (it sees `asyncio.CancelledError` at its current `await`,
so its `finally` and `async with` blocks run) a little before Celery's soft time limit, and
the attempt ends as a timeout; this works on every pool, where Celery's own limits do not.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import inspect
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_shutdown

logger = logging.getLogger("laravel_queue.worker")

T = TypeVar("T")

# How much earlier than Celery's soft limit the coroutine is cancelled, so the two never
# race: the soft limit's signal would otherwise land in the middle of handling the first.
MARGIN_SECONDS = 0.1


class _ThreadState(threading.local):
    loop: asyncio.AbstractEventLoop | None = None
    pid: int = 0
    parent: asyncio.AbstractEventLoop | None = None  # in a helper thread: the loop it serves


_state = _ThreadState()
_loops: list[asyncio.AbstractEventLoop] = []
_loops_lock = threading.Lock()


def loops_created() -> int:
    """How many event loops this process has created for async jobs (one per thread that
    ran one): the figure the tests and `lq work`'s debug log check."""
    with _loops_lock:
        return sum(1 for loop in _loops if _owned_here(loop))


def loop_for_this_thread() -> asyncio.AbstractEventLoop:
    """This thread's loop for async jobs, created at the first one (again in a forked child:
    a loop does not survive a fork)."""
    loop = _state.loop
    if loop is None or loop.is_closed() or _state.pid != os.getpid():
        loop = asyncio.new_event_loop()
        loop._lq_pid = os.getpid()  # type: ignore[attr-defined]
        _state.loop, _state.pid = loop, os.getpid()
        with _loops_lock:
            _loops.append(loop)
        logger.debug("event loop for async jobs created in %s", threading.current_thread().name)
    return loop


def run_awaitable(awaitable: Awaitable[T], timeout: float = 0.0) -> T:
    """Run `awaitable` to its end and return its result, cancelled after `timeout` seconds
    (0: no limit), which then raises `SoftTimeLimitExceeded` as a sync job's timeout does."""
    parent = _state.parent
    if parent is not None:  # a helper thread of an async middleware: the loop waits for us
        return asyncio.run_coroutine_threadsafe(_bounded(awaitable, timeout), parent).result()
    if _running_loop() is not None:
        # Called from async code on this thread (`dispatch_sync` in an async web handler):
        # this thread's loop is busy, so the job gets a thread and a loop of its own.
        return _in_own_thread(awaitable, timeout)
    loop = loop_for_this_thread()
    task = loop.create_task(_bounded(awaitable, timeout))
    try:
        return loop.run_until_complete(task)
    except BaseException:
        # Celery's soft limit or a shutdown signal raised while the loop waited: cancel the
        # coroutine and let it clean up before the exception goes on.
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):  # its own outcome is not this call's
                loop.run_until_complete(task)
        raise


def rest_in_helper_thread(call: Callable[[], object]) -> Awaitable[object]:
    """What `next(job)` gives an async middleware: the rest of the pipeline, run in a thread
    of the loop's executor; coroutines reached there come back to this loop."""
    loop = asyncio.get_running_loop()

    def serving() -> object:
        _state.parent = loop
        try:
            return call()
        finally:
            _state.parent = None

    return loop.run_in_executor(None, serving)


def has_async_code(cls: type) -> bool:
    """Whether a job class's `handle()` or `failed()` is `async def`."""
    return any(
        inspect.iscoroutinefunction(getattr(cls, name, None)) for name in ("handle", "failed")
    )


def in_async_code() -> bool:
    """Whether the caller runs inside a coroutine on this thread's running loop."""
    return _running_loop() is not None


def close_loops() -> None:
    """Close the loops this process created (at its exit): pending tasks are cancelled and
    async generators finalised, so clients the jobs kept open are shut cleanly."""
    with _loops_lock:
        loops = [loop for loop in _loops if _owned_here(loop)]
        _loops.clear()
    for loop in loops:
        if loop.is_closed() or loop.is_running():
            continue
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        except Exception as exc:
            logger.debug("closing an event loop for async jobs: %r", exc)
        finally:
            loop.close()


atexit.register(close_loops)
# A prefork pool process leaves without running atexit handlers; Celery says so first.
worker_process_shutdown.connect(lambda **_: close_loops(), weak=False)


async def _bounded(awaitable: Awaitable[T], timeout: float) -> T:
    if timeout <= 0:
        return await awaitable
    limit = max(timeout - MARGIN_SECONDS, timeout / 2)
    try:
        return await asyncio.wait_for(awaitable, limit)
    except asyncio.TimeoutError:
        raise SoftTimeLimitExceeded(f"async job cancelled after {timeout:g}s") from None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    return asyncio._get_running_loop()


def _owned_here(loop: asyncio.AbstractEventLoop) -> bool:
    return getattr(loop, "_lq_pid", None) == os.getpid()


def _in_own_thread(awaitable: Awaitable[T], timeout: float) -> T:
    async def bounded() -> T:
        return await _bounded(awaitable, timeout)

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="lq-async") as pool:
        return pool.submit(asyncio.run, bounded()).result()

"""What Laravel's CallQueuedHandler does around a job: through its middleware to `handle()`
with its unique lock (dispatchThroughMiddleware), and `failed()` on a fresh instance when
it fails for good."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable
from typing import Any, Protocol

from laravel_queue.bus.unique import ShouldBeUnique, ShouldBeUniqueUntilProcessing, unique_lock
from laravel_queue.cache.base import CacheStore
from laravel_queue.exceptions import ModelNotFoundError
from laravel_queue.jobs.models import ModelLoader
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.jobs.serialization import decode_job
from laravel_queue.messages.payload import JobMessage
from laravel_queue.runtime.event_loops import in_async_code, rest_in_helper_thread, run_awaitable

logger = logging.getLogger("laravel_queue.worker")


class MiddlewareRun(Protocol):
    """What the pipeline reads and sets on the run (`JobRun`) while the job goes through."""

    in_middleware: list[object] | None
    """The middleware running now (a one-item list), so a release can say who made it."""
    released: bool


def named(middleware: object) -> str:
    """`RateLimited('backups')` where the middleware says so, else its class name."""
    text = repr(middleware)
    return type(middleware).__name__ if text.startswith("<") else text


def run_through_middleware(
    run: MiddlewareRun, job: Queueable, job_id: str, cache: CacheStore, timeout: float = 0.0
) -> None:
    """Middleware outermost first; not calling `next` ends the job as a success.

    A unique job's lock goes once the job is done, unless it was released (Laravel:
    CallQueuedHandler::call); an until-processing lock goes just before `handle()`, or after
    the pipeline if a middleware ended the job without releasing it. An `async def` handle
    or middleware runs on the process's event loop (`event_loops`), cancelled after
    `timeout` seconds (0: none).
    """
    pipeline = list(job.middleware())
    unique = isinstance(job, ShouldBeUnique)
    held = unique_lock(job, job_id, cache) if unique else None
    until_processing = isinstance(job, ShouldBeUniqueUntilProcessing)

    def give_back() -> None:
        nonlocal held
        if held is not None:
            held.release_or_let_expire()
            held = None

    def call(index: int, current: Any) -> None:
        outer, run.in_middleware = run.in_middleware, list(pipeline[index : index + 1]) or None
        try:
            if index < len(pipeline):
                result = pipeline[index].handle(current, lambda nxt: next_step(index + 1, nxt))
            else:
                if until_processing:
                    give_back()
                result = current.handle()
            if inspect.isawaitable(result):
                run_awaitable(result, timeout)
        finally:
            run.in_middleware = outer

    def next_step(index: int, current: Any) -> Awaitable[object] | None:
        """`next(job)`: the rest, now; for an async middleware, an awaitable of it."""
        if in_async_code():
            return rest_in_helper_thread(lambda: call(index, current))
        call(index, current)
        return None

    try:
        call(0, job)
    except BaseException:
        if until_processing and not run.released:
            give_back()
        raise
    if not run.released:
        give_back()


def call_failed_hook(
    job_class: type[Queueable],
    message: JobMessage,
    job_id: str,
    cache: CacheStore,
    exc: BaseException,
    models: ModelLoader,
) -> None:
    """`failed(exc)` on a freshly decoded instance, its models loaded fresh, then its unique
    lock given back (Laravel: CallQueuedHandler::failed); what `failed()` raises is logged,
    never raised. A job whose models are gone has no instance to call it on (in Laravel
    too): its lock is given back if its `unique_id()` does not need them."""
    with models.for_run() as run_models:
        try:
            fresh = decode_job(job_class, message, run_models)
        except ModelNotFoundError:
            logger.warning("%s: failed() not called, its models are gone", job_class.display_name())
            give_back_unique_lock(job_class, message, job_id, cache)
            return
        except Exception:
            return  # an undecodable job has no instance to call failed() on
        fresh._lq_uuid = job_id
        try:
            result = fresh.failed(exc)
            if inspect.isawaitable(result):  # async def failed()
                run_awaitable(result)
        except Exception:
            logger.exception(
                "%s.failed() raised; the failure is recorded anyway", fresh.display_name()
            )
    _give_back(fresh, job_id, cache)


def give_back_unique_lock(
    job_class: type[Queueable], message: JobMessage, job_id: str, cache: CacheStore
) -> None:
    """A unique job that ends without running (cancelled, or its models gone) gives its lock
    back; its models are not loaded (an id it needs from one cannot be read: the lock then
    expires after `unique_for`)."""
    if issubclass(job_class, ShouldBeUnique):
        try:
            _give_back(decode_job(job_class, message), job_id, cache)
        except Exception:
            return  # an undecodable job cannot say its unique id: the lock expires


def _give_back(job: Queueable, job_id: str, cache: CacheStore) -> None:
    if isinstance(job, ShouldBeUnique):
        unique_lock(job, job_id, cache).release_or_let_expire()

"""Callbacks of chains and batches: what runs when a chain fails for good.

A callback is a `Job` instance, dispatched when it fires, or a module-level function
decorated with `@callback`, called in the worker that sees the event (Laravel: a closure,
serialized with the chain). A lambda or a closure cannot travel to another process, so it is
refused when it is passed in, with the reason. Only functions decorated with `@callback` are
ever called, so what a message names can never make a worker call anything else (`os:system`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

from laravel_queue.bus.dispatcher import Dispatcher
from laravel_queue.bus.host import BusHost
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.jobs.serialization import chain_link, job_from_link

logger = logging.getLogger("laravel_queue.worker")

F = TypeVar("F", bound=Callable[..., Any])

_callbacks: dict[str, Callable[..., Any]] = {}

Callback: TypeAlias = "Queueable | Callable[..., Any]"
"""A `Job` instance or a function decorated with `@callback`."""


def _path(fn: Callable[..., Any], where: str) -> str:
    name = getattr(fn, "__qualname__", "") or getattr(fn, "__name__", "")
    module = getattr(fn, "__module__", "") or ""
    advice = "define a module-level function decorated with @callback, or pass a Job instance"
    if getattr(fn, "__name__", "") == "<lambda>":
        raise TypeError(
            f"{where}: a lambda cannot be sent to the worker that will call it; {advice}"
        )
    if "<locals>" in name:
        raise TypeError(
            f"{where}: {name} is defined inside a function (a closure), which cannot be sent "
            f"to the worker that will call it; {advice}"
        )
    if module == "__main__" or not module:
        raise TypeError(
            f"{where}: {name} is defined in the script being run (__main__), which no worker "
            "can import; move it into a module"
        )
    return f"{module}:{name}"


def callback(fn: F) -> F:
    """Mark a module-level function as a chain callback: `@callback def notify(exc): ...`."""
    _callbacks[_path(fn, "@callback")] = fn
    return fn


def callback_spec(cb: Callback, where: str) -> dict[str, Any]:
    """How `cb` travels in a message; `TypeError` saying why when it cannot."""
    if isinstance(cb, Queueable):
        return {"job": chain_link(cb)}
    if not callable(cb) or isinstance(cb, type):
        raise TypeError(
            f"{where} takes a Job instance or a function decorated with @callback, got {cb!r:.80}"
        )
    path = _path(cb, where)
    if _callbacks.get(path) is not cb:
        raise TypeError(
            f"{where}: {path.replace(':', '.')} is not decorated with @callback; decorate it "
            "(from laravel_queue import callback), so workers know it may be called"
        )
    return {"function": path}


def invoke(spec: dict[str, Any], manager: BusHost, *args: Any) -> None:
    """Fire one callback. What it raises is logged and swallowed, as Laravel reports and
    swallows a callback's exception: the job's own outcome stands."""
    try:
        if "job" in spec:
            Dispatcher(manager).dispatch(job_from_link(spec["job"]))
        else:
            registered_function(str(spec.get("function")))(*args)
    except Exception:
        logger.exception("callback %s raised; the job's outcome stands", _describe(spec))


def registered_function(path: str) -> Callable[..., Any]:
    """A registered callback; one this process never imported is an error, as an unregistered
    job is (importing whatever module a message names is not something a worker should do)."""
    fn = _callbacks.get(path)
    if fn is None:
        raise LookupError(
            f"{path.replace(':', '.')} is not a @callback function this worker knows; import "
            "its module in the app module, as for job classes"
        )
    return fn


def _describe(spec: dict[str, Any]) -> str:
    if "job" in spec:
        return str(spec["job"].get("task"))
    return str(spec.get("function"))

"""Record final failures of ordinary Celery tasks of a bound app in `failed_jobs`.

Celery's `task_failure` is the one place every final failure passes, but it fires in
different processes (celery-mechanics §2.1):
- an exception raised by the task (after `autoretry_for`/`self.retry` gave up too): the pool
  child, in `trace`, with the task's request on the request stack — before an `acks_late`
  message is acknowledged;
- a lost worker process (`WorkerLostError`) or `Reject(requeue=False)`: the main process, in
  `Request.on_failure`, which pushes the request on the stack for us;
- a hard time limit: the main process, in `Request.on_timeout`, with no request on the stack;
  the worker's `Request` is found by its id among those `task_received` saw (held weakly, so
  finished ones drop out by themselves).
Retries (`Retry`) and requeued lost workers (`reject_on_worker_lost`) do not fire it. Jobs
(`JobTask`) are skipped: the runtime records them itself, with Laravel's rules.
"""

from __future__ import annotations

import logging
from typing import Any
from weakref import WeakValueDictionary

from celery import Task, signals
from celery.app.task import Context

from laravel_queue.jobs.registry import job_class
from laravel_queue.messages.payload import JobMessage

logger = logging.getLogger("laravel_queue.failed")

# Publish options of the original message a retry keeps: what runs after the task.
KEPT_OPTIONS = {"callbacks": "link", "errbacks": "link_error", "chain": "chain"}


# Requests the main process received and has not dropped yet (task_received fires there).
_received: WeakValueDictionary[str, Any] = WeakValueDictionary()


def _remember_request(request: Any = None, **_: Any) -> None:
    if request is not None:
        _received[request.id] = request


def _request_for(task: Task, task_id: str) -> Context | None:
    """The failed task's request: on the stack (pool child, `on_failure`), else rebuilt from
    the worker's `Request` (`on_timeout`)."""
    if task.request.id == task_id:
        return task.request
    received = _received.get(task_id)
    return Context(received.request_dict) if received is not None else None


def plain_task_message(
    task: Task, task_id: str, args: Any, kwargs: Any, connection: str
) -> JobMessage:
    request = _request_for(task, task_id)
    options = {
        option: getattr(request, attribute)
        for attribute, option in KEPT_OPTIONS.items()
        if request is not None and getattr(request, attribute, None)
    }
    return JobMessage.from_request(
        task.name,
        task_id,
        request,
        args,
        kwargs,
        default_queue=_configured_queue(task),
        connection=connection,
        options=options,
    )


def _configured_queue(task: Task) -> str:
    route = task.app.amqp.router.route({}, task.name)
    queue = route.get("queue")
    return str(getattr(queue, "name", queue) or task.app.conf.task_default_queue)


def _describe(exception: BaseException, einfo: Any) -> BaseException | str:
    traceback_text = getattr(einfo, "traceback", None)
    return str(traceback_text).rstrip() if traceback_text else exception


def record_plain_task_failure(
    sender: Task | None = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Any = None,
    kwargs: Any = None,
    einfo: Any = None,
    **_: Any,
) -> None:
    if sender is None or task_id is None or job_class(sender.name) is not None:
        return
    manager = getattr(sender.app, "laravel_queue", None)
    if manager is None or not manager.capture_plain_tasks or sender.name.startswith("celery."):
        return
    if sender.request.id == task_id and sender.request.is_eager:
        return  # task.apply() / task_always_eager: nothing was queued, nothing to replay
    try:
        connection = manager.connection_for_app(sender.app).name
        message = plain_task_message(sender, task_id, args, kwargs, connection)
        manager.failed.log(message, _describe(exception or Exception("unknown"), einfo))
    except Exception:
        logger.exception("could not record the failure of %s[%s]", sender.name, task_id)


def capture_plain_task_failures() -> None:
    """Connect the receivers (once per process; connecting again changes nothing: Celery
    keys a receiver by its identity). Binding a manager to an app calls it."""
    signals.task_received.connect(_remember_request, weak=False)
    signals.task_failure.connect(record_plain_task_failure, weak=False)

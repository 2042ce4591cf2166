"""`JobTask`: every `Job` subclass becomes a Celery task named after its dotted path.

Registration works like Celery's `shared_task`: `Job.__init_subclass__` calls `add_task`,
which adds the task to every Celery app that exists now and to every app finalized later, so
`celery -A shop worker` runs our jobs as soon as the app module imports them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery, Task
from celery._state import _get_active_apps, connect_on_app_finalize
from celery.app.trace import LOG_FAILURE, LOG_SUCCESS

from laravel_queue.celery_app.request import JobRequest
from laravel_queue.durations import readable
from laravel_queue.exceptions import describe
from laravel_queue.jobs import registry
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.jobs.serialization import header_for
from laravel_queue.manager import QueueManager, manager_for_app
from laravel_queue.messages.payload import HEADER, SUCCESS_COUNTED_BY_WORKER, JobMessage
from laravel_queue.runtime.job_run import JobRun

logger = logging.getLogger("laravel_queue.worker")


class JobOutcomeLog(logging.Filter):
    """Celery logs every task that returns as "succeeded in 0.0008768860002419387s: <value>";
    a job that was released did not succeed. A job's line says how it ended instead, once, at
    INFO, with the time rounded: `Task shop.jobs.SendInvoice[7d0c...] released in 12ms`
    (`done`, `deleted`). A job that fails for good was already logged by the run, once, with
    the traceback of the job's own code, so Celery's "raised" line for it goes to DEBUG.
    Lines of plain Celery tasks are left as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, dict) or args.get("name") not in registry.jobs():
            return True
        if record.msg is LOG_SUCCESS:
            record.msg = "Task %(name)s[%(id)s] %(outcome)s in %(took)s"
            record.args = {
                **args,
                "outcome": str(args.get("return_value", "")).strip("'"),
                "took": readable(float(args.get("runtime") or 0)),
            }
        elif record.msg == LOG_FAILURE.strip():
            return demote_to_debug(record)
        return True


def demote_to_debug(record: logging.LogRecord) -> bool:
    """Turn `record` into a DEBUG record, kept only where its logger shows DEBUG: a filter's
    way of making a library's report of something we already logged into chatter."""
    record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
    return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_outcome_log = JobOutcomeLog()


def process_message(
    manager: QueueManager, task: JobTask, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str:
    """Entry point of every job task: build the run from Celery's request and process it.

    Returns how the run ended ("done", "released", "deleted"), which the worker log shows in
    place of Celery's "succeeded" (`JobOutcomeLog`)."""
    request = task.request
    delivery = request.delivery_info or {}
    message = JobMessage.from_request(
        task.name,
        request.id,
        request,
        args,
        kwargs,
        default_queue=task.job_class.queue or manager.default_queue,
        connection=manager.connection_for_app(task.app).name,
    )
    if HEADER not in message.headers:
        # Sent by plain Celery (`task.delay(...)`): settle the Laravel fields the way a
        # dispatch would have, so the job still follows its class's rules.
        message = message.with_lq(header_for(task.job_class, request.id))
    redelivered = bool(delivery.get("redelivered") or getattr(request, "redelivered", False))
    run: JobRun | None = None
    try:
        run = JobRun(
            manager,
            manager.connection_for_app(task.app),
            task.job_class,
            message,
            redelivered=redelivered,
            success_counted_by_worker=bool(delivery.get(SUCCESS_COUNTED_BY_WORKER)),
        )
        run.process()
        return run.outcome
    except Exception as exc:
        if run is None or not (run.failed or run.released):
            # Not a failure the run settled (a malformed `lq` header, a store that broke
            # mid-run): record it anyway, so the message is never acknowledged unrecorded.
            logger.error("failed %s[%s]: %s", message.task, message.id, describe(exc), exc_info=exc)
            manager.failed.log(message, exc)
        raise
    finally:
        if manager.worker_options.rest:
            time.sleep(manager.worker_options.rest)  # Laravel: --rest, between jobs


class JobTask(Task):  # type: ignore[misc]
    """The Celery face of a Job class: settings that keep a job from being lost.

    `acks_late` + `reject_on_worker_lost`: a job whose process dies comes back (and the
    redelivery spends an attempt, see runtime). `acks_on_timeout=False`: a job killed by the
    hard time limit comes back too instead of being acknowledged as gone.
    """

    job_class: type[Queueable]
    acks_late = True
    reject_on_worker_lost = True
    acks_on_timeout = False
    # Every exception that leaves a job was settled and logged by its run (`JobRun.fail`):
    # Celery still marks the task failed, and logs it at INFO without a traceback.
    throws = (Exception,)
    ignore_result = True
    typing = False
    serializer = "json"
    # The main process's request: holds a batched job's acknowledgement until its success is
    # counted (laravel_queue.worker.batch_counts).
    Request = JobRequest

    def run(self, *args: Any, **kwargs: Any) -> str:
        return process_message(manager_for_app(self.app), self, args, kwargs)


def add_task(cls: type[Queueable]) -> None:
    """Make `cls` a task of every Celery app, now and when apps are finalized later, and
    have Celery's task log say how its jobs ended (`JobOutcomeLog`; added once)."""
    logging.getLogger("celery.app.trace").addFilter(_outcome_log)
    name = registry.task_name(cls)
    task_cls = type(
        cls.__name__, (JobTask,), {"name": name, "job_class": cls, "__module__": cls.__module__}
    )

    def add_to(app: Celery) -> Task:
        return app.register_task(task_cls())

    connect_on_app_finalize(add_to)
    for app in _get_active_apps():
        if app.finalized:
            with app._finalize_mutex:
                add_to(app)

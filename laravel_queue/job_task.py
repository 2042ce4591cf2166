"""Every `Job` subclass becomes a Celery task named after its dotted path.

Registration works like Celery's `shared_task`: the task is added to every Celery app that
exists now and to every app finalized later, so `celery -A shop worker` runs our jobs as
soon as the app module imports them. The package imports this module, so the tasks exist
whenever laravel_queue is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from celery import Celery, Task
from celery._state import _get_active_apps, connect_on_app_finalize

from . import registry
from .manager import manager_for_app
from .runtime import process_message

if TYPE_CHECKING:
    from .job import Job


class JobTask(Task):  # type: ignore[misc]
    """The Celery face of a Job class: settings that keep a job from being lost.

    `acks_late` + `reject_on_worker_lost`: a job whose process dies comes back (and the
    redelivery spends an attempt, see runtime). `acks_on_timeout=False`: a job killed by the
    hard time limit comes back too instead of being acknowledged as gone.
    """

    job_class: type[Job]
    acks_late = True
    reject_on_worker_lost = True
    acks_on_timeout = False
    ignore_result = True
    typing = False
    serializer = "json"

    def run(self, *args: Any, **kwargs: Any) -> str:
        return process_message(manager_for_app(self.app), self, args, kwargs)


def add_task(cls: type[Job]) -> None:
    """Make `cls` a task of every Celery app, now and when apps are finalized later."""
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


registry.on_register(add_task)

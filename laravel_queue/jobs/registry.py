"""Every job class, by the task name it travels under (its dotted path).

`Job.__init_subclass__` records each subclass here and makes it a Celery task
(`celery_app.task.add_task`); workers and `failed:retry` find a message's class here.
"""

from __future__ import annotations

from laravel_queue.jobs.queueable import Queueable, task_name

__all__ = ["job_class", "jobs", "register", "task_name"]

_jobs: dict[str, type[Queueable]] = {}


def register(cls: type[Queueable]) -> None:
    """Record a job class under its task name."""
    _jobs[task_name(cls)] = cls


def job_class(name: str) -> type[Queueable] | None:
    return _jobs.get(name)


def jobs() -> dict[str, type[Queueable]]:
    return dict(_jobs)

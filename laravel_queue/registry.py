"""Every `Job` subclass, by the task name it travels under (its dotted path).

The registry only records classes; `job_task` (which can run them) makes each a Celery task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job

_jobs: dict[str, type[Job]] = {}
_listeners: list[Callable[[type[Job]], None]] = []


def task_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register(cls: type[Job]) -> None:
    """Record a Job class under its task name and tell whoever makes tasks of it."""
    _jobs[task_name(cls)] = cls
    for listener in _listeners:
        listener(cls)


def on_register(listener: Callable[[type[Job]], None]) -> None:
    """Call `listener` for every Job class, those registered so far and those to come
    (how the runtime turns each into a Celery task without this module knowing it)."""
    _listeners.append(listener)
    for cls in list(_jobs.values()):
        listener(cls)


def job_class(name: str) -> type[Job] | None:
    return _jobs.get(name)


def jobs() -> dict[str, type[Job]]:
    return dict(_jobs)

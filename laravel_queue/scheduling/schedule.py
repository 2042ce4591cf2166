"""The `Schedule` facade: the events an app declares, in the module `lq --app` loads.

    Schedule.job(SendReports()).daily_at("02:00").on_one_server()
    Schedule.call(prune_carts).hourly()

Laravel: `Schedule::job(...)` and `Schedule::call(...)` in `routes/console.php`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from laravel_queue.bus.callbacks import callback_spec
from laravel_queue.jobs.queueable import Queueable, require_job_instance
from laravel_queue.scheduling.call import CallsFunction
from laravel_queue.scheduling.event import ScheduledEvent


class Schedule:
    """Every event declared in this process, in the order declared."""

    _events: ClassVar[list[ScheduledEvent]] = []

    @staticmethod
    def job(
        job: Queueable, queue: str | None = None, connection: str | None = None
    ) -> ScheduledEvent:
        """Dispatch a copy of `job` at each due time."""
        require_job_instance(job, "Schedule.job()")
        event = ScheduledEvent(job, job.display_name())
        if queue is not None:
            event.on_queue(queue)
        if connection is not None:
            event.on_connection(connection)
        Schedule._events.append(event)
        return event

    @staticmethod
    def call(function: Callable[..., Any]) -> ScheduledEvent:
        """Call a module-level `@callback` function at each due time, as a job on a worker."""
        path = str(callback_spec(function, "Schedule.call")["function"])  # TypeError: why not
        event = ScheduledEvent(CallsFunction(path), path.replace(":", "."))
        Schedule._events.append(event)
        return event

    @staticmethod
    def events() -> list[ScheduledEvent]:
        return list(Schedule._events)

    @staticmethod
    def clear() -> None:
        """Forget every declared event (tests declare their own)."""
        Schedule._events.clear()

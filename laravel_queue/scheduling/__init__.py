"""Scheduling (Laravel's `Schedule`): events declared in the app module, dispatched as jobs
by any number of schedulers without a leader.

`frequencies` builds an event's cron expression, `event` is one event (what it dispatches,
its conditions), `schedule` the `Schedule` facade holding the declared events, `call` the job
that calls a `@callback` function, `runner` the scheduler (`lq schedule:work`).
"""

from laravel_queue.scheduling.event import ScheduledEvent
from laravel_queue.scheduling.runner import Run, Scheduler
from laravel_queue.scheduling.schedule import Schedule

__all__ = ["Run", "Schedule", "ScheduledEvent", "Scheduler"]

"""The app module `lq schedule:work` loads in the scheduler process tests.

With LQ_TEST_BROKER (and LQ_TEST_CACHE, LQ_TEST_DATABASE) its manager uses them; without, the
embedded SQLite default under LQ_HOME. Every scheduler writes "<event> <due time> <pid>" to
LQ_TEST_SCHEDULE_TRACE as it starts dispatching a due time.
"""

from __future__ import annotations

import os

from celery import Celery

from laravel_queue import Queue, QueueManager, Schedule, events

from . import jobs

if "LQ_TEST_BROKER" in os.environ:
    app = Celery("lq_tests", broker=os.environ["LQ_TEST_BROKER"])
    manager = QueueManager(
        app,
        database_url=os.environ["LQ_TEST_DATABASE"],
        cache_url=os.environ.get("LQ_TEST_CACHE") or None,
    )

Schedule.job(jobs.Traced(os.devnull, "second")).every_second().on_one_server().name("every-second")
Schedule.job(jobs.Traced(os.devnull, "minute")).every_minute().on_one_server().name("every-minute")


def _trace(event: events.ScheduledTaskStarting) -> None:
    with open(os.environ["LQ_TEST_SCHEDULE_TRACE"], "a") as trace:
        trace.write(f"{event.task.description} {int(event.due_at)} {os.getpid()}\n")


Queue.listen(events.ScheduledTaskStarting, _trace)

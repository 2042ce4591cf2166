"""The app module `lq schedule:work` (and `lq work`) load in the scheduler process tests.

With LQ_TEST_BROKER (and LQ_TEST_CACHE, LQ_TEST_DATABASE) its manager uses them; without, the
embedded SQLite default under LQ_HOME. LQ_TEST_SCHEDULE picks what is scheduled:

- `exactly-once` (the default): an every-second and an every-minute `on_one_server()` event;
- `overlap`: an every-second `without_overlapping()` event whose job (`Spans`, traced to
  LQ_TEST_SPAN_TRACE) lasts LQ_TEST_SPAN_SECONDS; the hold expires after
  LQ_TEST_OVERLAP_EXPIRES seconds (an hour by default);
- `catch-up`: an every-ten-seconds `on_one_server()` event that catches up within 5 minutes.

Every scheduler writes "<event> <due time> <pid> <wall time>" to LQ_TEST_SCHEDULE_TRACE as it
starts dispatching a due time.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

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

schedule = os.environ.get("LQ_TEST_SCHEDULE", "exactly-once")
if schedule == "exactly-once":
    every_second = jobs.Traced(os.devnull, "second")
    Schedule.job(every_second).every_second().on_one_server().name("every-second")
    every_minute = jobs.Traced(os.devnull, "minute")
    Schedule.job(every_minute).every_minute().on_one_server().name("every-minute")
elif schedule == "overlap":
    long = jobs.Spans(os.environ["LQ_TEST_SPAN_TRACE"], float(os.environ["LQ_TEST_SPAN_SECONDS"]))
    expires = timedelta(seconds=float(os.environ.get("LQ_TEST_OVERLAP_EXPIRES", "3600")))
    Schedule.job(long).every_second().on_one_server().without_overlapping(expires).name("long")
elif schedule == "catch-up":
    missable = jobs.Traced(os.devnull, "missable")
    Schedule.job(missable).every_ten_seconds().on_one_server().catch_up(
        within=timedelta(minutes=5)
    ).name("every-ten-seconds")


def _trace(event: events.ScheduledTaskStarting) -> None:
    with open(os.environ["LQ_TEST_SCHEDULE_TRACE"], "a") as trace:
        trace.write(f"{event.task.description} {int(event.due_at)} {os.getpid()} {time.time()}\n")


if "LQ_TEST_SCHEDULE_TRACE" in os.environ:
    Queue.listen(events.ScheduledTaskStarting, _trace)

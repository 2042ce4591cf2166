"""`shop.queue` with each job's database queries counted and logged, for shop/tests.py:
`lq --app shop.counted_queue work` logs "<job> ran <n> queries" after every job."""

import logging

from django.db import connection

from laravel_queue import Queue, events
from shop.queue import manager  # noqa: F401 - the shop's manager and jobs

logger = logging.getLogger(__name__)


def start_counting(event: events.JobProcessing) -> None:
    connection.force_debug_cursor = True  # Django keeps the queries it runs
    connection.queries_log.clear()


def say_how_many(event: events.JobProcessed) -> None:
    logger.info("%s ran %d queries", event.job.name, len(connection.queries))


Queue.listen(events.JobProcessing, start_counting)
Queue.listen(events.JobProcessed, say_how_many)

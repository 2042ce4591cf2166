"""The app module worker *processes* load in tests: `lq --app tests.apps work`.

Configured from the environment the test sets, so the worker shares the test's broker,
cache and database.
"""

from __future__ import annotations

import os

from celery import Celery

from laravel_queue import QueueManager

from . import jobs  # noqa: F401 - registers the job classes

app = Celery("lq_tests", broker=os.environ["LQ_TEST_BROKER"])
app.conf.broker_transport_options = {
    "visibility_timeout": int(os.environ.get("LQ_TEST_VISIBILITY", "30"))
}
manager = QueueManager(
    app,
    database_url=os.environ["LQ_TEST_DATABASE"],
    cache_url=os.environ.get("LQ_TEST_CACHE") or None,
)

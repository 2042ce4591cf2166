"""The app module of the failover process test: connections `primary` (LQ_TEST_PRIMARY, a
private redis-server) and the default (LQ_TEST_BROKER), and `failover` listing both."""

from __future__ import annotations

import os

from celery import Celery

from laravel_queue import QueueManager

from . import jobs  # noqa: F401 - registers the job classes

app = Celery("lq_tests", broker=os.environ["LQ_TEST_BROKER"])
manager = QueueManager(
    app,
    cache_url=os.environ["LQ_TEST_CACHE"],
    connections={"primary": os.environ["LQ_TEST_PRIMARY"], "failover": "failover:primary,default"},
    dispatch_timeout=1,
)

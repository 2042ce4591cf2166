"""An app module for Redis: `LQ_APP=examples.redis_app lq work --queue high,default`.

Redis is the broker and the cache (counters, delayed jobs); failed jobs go to SQLite unless
LQ_DATABASE_URL names another database.
"""

from __future__ import annotations

import os

from celery import Celery

from laravel_queue import Job, QueueManager

celery_app = Celery("shop", broker=os.environ.get("LQ_BROKER_URL", "redis://127.0.0.1:6379/0"))
manager = QueueManager(celery_app, database_url=os.environ.get("LQ_DATABASE_URL"))


class ResizeImage(Job):
    queue = "high"
    tries = 5
    backoff = [5, 30, 120]
    timeout = 30

    def __init__(self, path: str, width: int) -> None:
        self.path = path
        self.width = width

    def handle(self) -> None:
        print(f"resizing {self.path} to {self.width}px (attempt {self.attempts()})")

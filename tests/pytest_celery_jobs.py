"""The job of the pytest-celery tests: its module's source is copied into the worker."""

from __future__ import annotations

import logging

from laravel_queue import Job

logger = logging.getLogger(__name__)


class Greet(Job):
    def __init__(self, name: str) -> None:
        self.name = name

    def handle(self) -> None:
        logger.warning("greeted %s", self.name)

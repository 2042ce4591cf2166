"""Helpers shared by the tests: running workers and waiting for what they do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery.contrib.testing.worker import start_worker

from laravel_queue import QueueManager
from laravel_queue.worker.options import WorkerOptions
from laravel_queue.worker.run import apply_sleep

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServiceUrls:
    broker: str
    cache: str


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@contextmanager
def worker(
    manager: QueueManager, queues: tuple[str, ...] = ("default",), **options: Any
) -> Iterator[None]:
    """A real Celery worker (solo pool) in a thread of this process, on the manager's broker."""
    manager.worker_options = WorkerOptions(queues=list(queues), **options)
    connection = manager.connection()
    apply_sleep(connection, 0.05)  # type: ignore[arg-type]
    with start_worker(
        manager.app,
        pool="solo",
        perform_ping_check=False,
        queues=list(queues),
        shutdown_timeout=30,
        loglevel="WARNING",
    ):
        yield


def lq(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[str]:
    """Start `lq ARGS` as a separate process (real worker processes)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "laravel_queue.cli", *args],
        env=full_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )

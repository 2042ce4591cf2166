"""What the end-to-end benchmarks share: a warm worker, a wait, the clock.

A side is timed from its first publish to its end (a count reached on the cache Redis, or
a callback's flag set there), with its worker started and one job run through it before the
clock starts, so start-up is not measured.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.apps import CountedJob, counter, raw_counted
from laravel_queue import Queue

ROOT = Path(__file__).resolve().parent.parent


def celery_worker(queue: str) -> list[str]:
    """A raw Celery worker with `lq work`'s delivery settings (prefork 2, prefetch 1,
    acks late, fair), on Kombu's own Redis fetch."""
    return [
        sys.executable,
        *("-m", "celery", "-A", "bench.apps", "worker", "-Q", queue, "-c", "2", "-P", "prefork"),
        *("--prefetch-multiplier", "1", "-O", "fair", "--without-mingle", "--without-gossip"),
        *("-l", "ERROR"),
    ]


def lq_worker(queue: str) -> list[str]:
    return [
        sys.executable,
        *("-m", "laravel_queue.cli", "--app", "bench.apps", "work", "--queue", queue),
        *("--concurrency", "2", "--pool", "prefork", "--loglevel", "ERROR"),
    ]


@contextmanager
def warm_worker(kind: str, queue: str, **env_vars: str) -> Iterator[None]:
    """A worker (`lq` or `celery`) consuming `queue`, started, with one job run through it."""
    command = lq_worker(queue) if kind == "lq" else celery_worker(queue)
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_vars}
    if kind == "celery":
        env["LQ_BENCH_RELIABLE_FETCH"] = "0"  # raw Celery as its users run it: Kombu's fetch
    worker = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        counter().delete("bench:done")
        if kind == "lq":
            Queue.bulk([CountedJob()], queue=queue)
        else:
            raw_counted.apply_async(queue=queue)
        wait_for(lambda: counter().get("bench:done") == b"1", timeout=60)
        yield
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the side did not finish in time")
        time.sleep(0.005)


def timed_run(publish: Callable[[], object], jobs: int, callback: bool = False) -> float:
    """Seconds from `publish()` to `jobs` counted (and, with `callback`, the flag set)."""
    counter().delete("bench:done", "bench:callback")
    started = time.perf_counter()
    publish()
    done = str(jobs).encode()
    wait_for(lambda: counter().get("bench:done") == done, timeout=600)
    if callback:
        wait_for(lambda: counter().get("bench:callback") == b"1", timeout=600)
    elapsed = time.perf_counter() - started
    assert counter().get("bench:done") == done, "jobs lost or run twice"
    return elapsed

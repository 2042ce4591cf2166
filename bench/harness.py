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

from bench.apps import CountedJob
from bench.counting import counter
from bench.raw_app import raw_counted
from bench.servers import ending_with_this_process
from laravel_queue import Queue

ROOT = Path(__file__).resolve().parent.parent


def celery_worker(
    queue: str, pool: str = "prefork", concurrency: int = 2, defaults: bool = False
) -> list[str]:
    """A raw Celery worker (`bench.raw_app`) with `lq work`'s delivery settings (prefetch 1,
    acks late, fair, no mingle or gossip) on Kombu's own Redis fetch; with `defaults`, a
    plain `celery worker` as its users start it (prefork x CPUs, prefetch 4)."""
    command = [sys.executable, *("-m", "celery", "-A", "bench.raw_app", "worker", "-Q", queue)]
    if not defaults:
        command += [*("-c", str(concurrency), "-P", pool, "--prefetch-multiplier", "1")]
        command += ["-O", "fair", "--without-mingle", "--without-gossip"]
    return [*command, "-l", "ERROR"]


def lq_worker(
    queue: str, pool: str = "prefork", concurrency: int = 2, defaults: bool = False
) -> list[str]:
    """`lq work` on `bench.apps`; with `defaults`, with nothing but the queue given."""
    command = [sys.executable, *("-m", "laravel_queue.cli", "--app", "bench.apps", "work")]
    command += ["--queue", queue]
    if not defaults:
        command += ["--concurrency", str(concurrency), "--pool", pool]
    return [*command, "--loglevel", "ERROR"]


def start(command: list[str], **env_vars: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_vars}
    return subprocess.Popen(
        ending_with_this_process(command),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@contextmanager
def warm_worker(
    kind: str,
    queue: str,
    warm_up: Callable[[str], object] | None = None,
    **env_vars: str,
) -> Iterator[None]:
    """A worker (`lq` or `celery`) consuming `queue`, started, with one job run through it
    (sent by `warm_up(queue)` when given, e.g. a one-job batch whose `then` sets the callback
    flag, which is then awaited too: what a side does once per worker is not measured)."""
    worker = start(lq_worker(queue) if kind == "lq" else celery_worker(queue), **env_vars)
    try:
        counter().delete("bench:done", "bench:callback")
        if warm_up is not None:
            warm_up(queue)
        elif kind == "lq":
            Queue.bulk([CountedJob()], queue=queue)
        else:
            raw_counted.apply_async(queue=queue)
        wait_for(lambda: counter().get("bench:done") == b"1", timeout=60)
        if warm_up is not None:
            wait_for(lambda: counter().get("bench:callback") == b"1", timeout=60)
        yield
    finally:
        stop(worker)


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

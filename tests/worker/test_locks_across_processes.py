"""The issue's proofs with real `lq work` processes, on the Redis and on the SQL cache store:
one WithoutOverlapping key never runs twice at once across 4 workers, a rate limit holds in
every window across 4 workers, and a SIGKILLed worker blocks its key no longer than the TTL.
(8 processes dispatching one unique job at once: tests/test_unique.py.)"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from celery import Celery

from laravel_queue import Queue, QueueManager

from .. import jobs
from ..support import Running, ServiceUrls, lines, lq_running, wait_until

pytestmark = pytest.mark.slow

WORKERS = 4
RUNS = 120  # rate-limited jobs: 6 windows at least


@pytest.fixture(params=["redis", "sql"])
def env(
    request: pytest.FixtureRequest, redis_urls: ServiceUrls, postgres_url: str
) -> Iterator[dict[str, str]]:
    """Workers on Redis with their locks and counters in Redis or in PostgreSQL."""
    cache = redis_urls.cache if request.param == "redis" else postgres_url
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=postgres_url, cache_url=cache)
    manager.ensure_schema()
    yield {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": cache,
        "LQ_TEST_DATABASE": postgres_url,
        "LQ_TEST_PROBE": redis_urls.cache,
    }
    manager.engine.dispose()


def probe(env: dict[str, str]) -> redis.Redis:
    return redis.Redis.from_url(env["LQ_TEST_PROBE"], decode_responses=True)


def workers(
    stack: ExitStack, env: dict[str, str], count: int = WORKERS, **kwargs: object
) -> list[Running]:
    args = ("--app", "tests.apps", "work", "--sleep", "0.1", "--concurrency", "1")
    return [stack.enter_context(lq_running(*args, env=env, **kwargs)) for _ in range(count)]


def drained() -> bool:
    return Queue.size() == 0


def test_one_overlap_key_never_runs_twice_at_once_across_four_workers(
    env: dict[str, str],
) -> None:
    with ExitStack() as stack:
        workers(stack, env)
        # The instrument first: without the middleware the same workers do overlap.
        Queue.bulk([jobs.CountsOverlaps(guarded=False) for _ in range(100)])
        wait_until(lambda: probe(env).llen("seen") == 100, timeout=120, every=0.2)
        assert max(int(n) for n in probe(env).lrange("seen", 0, -1)) > 1
        probe(env).delete("seen", "running")

        started = time.monotonic()
        Queue.bulk([jobs.CountsOverlaps() for _ in range(1000)])
        wait_until(lambda: probe(env).llen("seen") == 1000, timeout=300, every=0.2)
        wait_until(drained, timeout=30)
        elapsed = time.monotonic() - started
    seen = [int(n) for n in probe(env).lrange("seen", 0, -1)]
    print(f"1,000 jobs on one key, 4 workers: {elapsed:.1f}s, max {max(seen)}")
    assert len(seen) == 1000 and max(seen) == 1


def test_a_rate_limit_holds_in_every_window_across_four_workers(env: dict[str, str]) -> None:
    Queue.bulk([jobs.CountsWindows() for _ in range(RUNS)])  # Limit.per_second(20)
    with ExitStack() as stack:
        workers(stack, env)
        wait_until(lambda: probe(env).llen("window-ends") == RUNS, timeout=120, every=0.2)
    ends = sorted(float(end) for end in probe(env).lrange("window-ends", 0, -1))
    windows: list[list[float]] = [[ends[0]]]
    for end in ends[1:]:  # one window's runs all see the same end; windows are >= 1 s apart
        if end - windows[-1][-1] > 0.5:
            windows.append([])
        windows[-1].append(end)
    sizes = [len(window) for window in windows]
    print(f"{RUNS} jobs at 20/s, 4 workers: {len(windows)} windows, largest {max(sizes)}")
    assert sum(sizes) == RUNS and max(sizes) <= 20
    assert len(windows) >= RUNS // 20  # 20 runs per window at most


def test_a_worker_killed_holding_a_lock_blocks_the_key_no_longer_than_its_ttl(
    env: dict[str, str], trace: Path
) -> None:
    jobs.HoldsTheLockTillKilled.dispatch(str(trace), "holder")  # expire_after(3)
    with ExitStack() as stack:
        [holder] = workers(stack, env, count=1, start_new_session=True)
        wait_until(lambda: lines(trace), timeout=30)
        os.killpg(holder.process.pid, signal.SIGKILL)  # the worker and its pool child
        killed_at = time.time()
    jobs.HoldsTheLockTillKilled.dispatch(str(trace), "next")
    with ExitStack() as stack:
        workers(stack, env, count=1)
        wait_until(lambda: len(lines(trace)) == 2, timeout=30)
    started_at = float(lines(trace)[1].split(" at ")[1])
    holder_started = float(lines(trace)[0].split(" at ")[1])
    print(f"next job ran {started_at - killed_at:.1f}s after the kill")
    assert started_at >= holder_started + 3 - 0.1  # the lock held until its TTL ran out
    assert started_at - killed_at < 3 + 5  # and no longer than that (plus polling)

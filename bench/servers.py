"""The servers a benchmark runs against: a private redis-server as the broker, so nothing else
on the box (a test run, another benchmark) shares it and `INFO commandstats` counts only what
the measured side sent.

Import this module first and call `use_private_broker()` before importing `bench.apps` or
`bench.raw_app`: both read `LQ_BENCH_BROKER` (and `LQ_BENCH_CACHE`) when imported.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of the benchmark's own on a free loopback port; its URL. A private
    broker lets `INFO commandstats` count only what the measured side sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def use_private(variable: str) -> str:
    """Point `variable` (`LQ_BENCH_BROKER`, `LQ_BENCH_CACHE`) at a private redis-server
    started now (stopped when the process exits), unless it is set already; the URL."""
    if variable not in os.environ:
        server = private_redis()
        os.environ[variable] = server.__enter__()
        atexit.register(server.__exit__, None, None, None)
    return os.environ[variable]


def use_private_broker() -> str:
    return use_private("LQ_BENCH_BROKER")


def commands_run(url: str) -> int:
    """Commands the Redis server at `url` has run so far (`INFO` itself left out)."""
    stats = redis.Redis.from_url(url).info("commandstats")
    return sum(int(s["calls"]) for name, s in stats.items() if name != "cmdstat_info")

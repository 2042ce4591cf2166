"""The servers a benchmark runs against: a private redis-server as the broker, so nothing else
on the box (a test run, another benchmark) shares it and `INFO commandstats` counts only what
the measured side sent.

Import this module first and call `use_private_broker()` before importing `bench.apps` or
`bench.raw_app`: both read `LQ_BENCH_BROKER` (and `LQ_BENCH_CACHE`) when imported.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

SETPRIV = shutil.which("setpriv")


def ending_with_this_process(command: list[str]) -> list[str]:
    """`command`, made to get SIGTERM when the benchmark that starts it exits, however it
    exits (Ctrl-C, a crash, a kill), where util-linux's `setpriv` is there: a worker left
    behind goes on retrying its private broker, gone with the benchmark, and takes CPU from
    every later run on a small box (eleven of them ran for 20 minutes before we noticed).
    The signal comes when the *thread* that started it ends: start them from the main one."""
    return [SETPRIV, "--pdeathsig", "TERM", *command] if SETPRIV else command


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of the benchmark's own on a free loopback port; its URL. A private
    broker lets `INFO commandstats` count only what the measured side sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ending_with_this_process(
            [
                *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ]
        ),
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
    """A private broker, and a private counting and cache server (`LQ_BENCH_CACHE`): what a
    run leaves in the cache (job statuses are kept a day) goes with its server, instead of
    piling up in a shared one (900,000 keys after a day of runs) and slowing later runs."""
    use_private("LQ_BENCH_CACHE")
    return use_private("LQ_BENCH_BROKER")


def commands_run(url: str) -> int:
    """Commands the Redis server at `url` has run so far (`INFO` itself left out)."""
    stats = redis.Redis.from_url(url).info("commandstats")
    return sum(int(s["calls"]) for name, s in stats.items() if name != "cmdstat_info")


@contextmanager
def delayed(url: str, rtt: float) -> Iterator[str]:
    """`url`'s Redis behind a proxy on a free port that holds each chunk `rtt / 2` seconds
    each way: a broker across the network (a managed Redis in the same region answers in
    about a millisecond) on a loopback box. The proxy's URL."""
    scheme, _, rest = url.partition("://")
    host_port, _, db = rest.partition("/")
    host, _, port = host_port.rpartition(":")
    listener = socket.create_server(("127.0.0.1", 0))
    proxy_port = listener.getsockname()[1]

    def pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                time.sleep(rtt / 2)
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for side in (source, target):
                with contextlib.suppress(OSError):
                    side.shutdown(socket.SHUT_RDWR)

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection((host, int(port)))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"{scheme}://127.0.0.1:{proxy_port}/{db}"
    finally:
        listener.close()

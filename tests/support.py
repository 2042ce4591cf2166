"""Helpers shared by the tests: running workers and waiting for what they do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery
from kombu import Connection, Exchange, Producer

from laravel_queue import QueueManager
from laravel_queue.worker.in_process import running_worker

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
    with running_worker(manager, queues, **options):
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


@dataclass
class Running:
    """A background `lq` process and its output so far."""

    process: subprocess.Popen[str]
    output: list[str]


@contextmanager
def lq_running(*args: str, env: dict[str, str], **kwargs: Any) -> Iterator[Running]:
    """`lq ARGS` running in the background, stopped with SIGTERM (a warm shutdown) on exit.

    Its output is read while it runs, since a full pipe would block the worker's logging (and
    with it the jobs)."""
    process = lq(*args, env=env, **kwargs)
    running = Running(process, [])
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: running.output.extend(stdout), daemon=True)
    reader.start()
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        reader.join(timeout=10)


class TcpProxy:
    """Forwards a local port to a server. `stop()` closes the port and cuts every open
    connection (the server "goes away" for its clients); `start()` brings it back on the
    same port; `hang()` keeps every connection open but forwards nothing (a server that
    accepts and never answers) until `resume()`. Lets a test make the shared PostgreSQL
    unreachable or unresponsive without touching it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()

    def hang(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown() first: close() alone leaves a thread blocked in accept() listening.
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def publish_raw(
    app: Celery,
    body: Any,
    headers: dict[str, Any],
    serializer: str | None = "json",
    count: int = 1,
    **options: Any,
) -> None:
    """Put messages on the "default" queue bypassing Celery (pickled, malformed, unknown);
    `options` go to Kombu's `publish` (a raw bytes body with its `content_type`)."""
    with Connection(app.conf.broker_url) as conn:
        producer = Producer(
            conn.channel(),
            exchange=Exchange("default", type="direct"),
            routing_key="default",
            serializer=serializer,
        )
        for n in range(count):
            producer.publish(
                body,
                declare=[app.amqp.queues["default"]],
                headers={**headers, "id": f"{headers.get('id', 'raw')}-{n}"},
                **options,
            )


class PrivateRedis:
    """A redis-server of the test's own (AOF on, so a restart keeps every queued job) that a
    test may freeze (SIGSTOP), thaw, kill and restart on the same port without touching the
    shared server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--dir", str(self.directory), "--save", ""),
                *("--appendonly", "yes", "--appendfsync", "always"),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=20)

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url(), socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_isolated(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` with nothing of this process's configuration: only PYTHONPATH, LQ_HOME
    (the embedded default's folder) and `env`."""
    return subprocess.run(
        [sys.executable, *args],
        env={"PYTHONPATH": str(ROOT), "LQ_HOME": str(home), "PATH": "/usr/bin:/bin", **env},
        cwd=ROOT,
        stdin=subprocess.DEVNULL,  # no terminal, as under cron or CI
        capture_output=True,
        text=True,
        timeout=60,
    )

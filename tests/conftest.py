"""Fixtures: a QueueManager per backend and real in-process / subprocess workers.

Servers are the machine's shared PostgreSQL, MariaDB, Redis and RabbitMQ; every test uses its
own Redis DB numbers, database names and key prefixes and removes them afterwards. A server
that does not answer skips its tests, unless LQ_REQUIRE_SERVICES=1 (CI) makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from kombu import Connection

from laravel_queue import QueueManager

from . import jobs
from .support import ServiceUrls

# Two Redis DBs of the tests' own; LQ_TEST_REDIS_DBS="5,6" lets a second checkout run at once.
REDIS_BROKER_DB, REDIS_CACHE_DB = (
    int(n) for n in os.environ.get("LQ_TEST_REDIS_DBS", "11,12").split(",")
)


# `@pytest.mark.lq_each_broker` (the package's pytest plugin) runs a test on the embedded
# default and on each of these: the tests' own Redis DB.
os.environ.setdefault("LQ_TEST_BROKER_URLS", f"redis://127.0.0.1:6379/{REDIS_BROKER_DB}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def require(service: str, port: int) -> None:
    if _answers(port):
        return
    message = f"{service} does not answer on 127.0.0.1:{port}"
    if os.environ.get("LQ_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (LQ_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def redis_urls() -> Iterator[ServiceUrls]:
    require("Redis", 6379)
    broker = f"redis://127.0.0.1:6379/{REDIS_BROKER_DB}"
    cache = f"redis://127.0.0.1:6379/{REDIS_CACHE_DB}"
    for url in (broker, cache):
        redis.Redis.from_url(url).flushdb()
    yield ServiceUrls(broker=broker, cache=cache)
    for url in (broker, cache):
        redis.Redis.from_url(url).flushdb()


@pytest.fixture
def amqp_url() -> Iterator[str]:
    require("RabbitMQ", 5672)
    vhost = "/"
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require("PostgreSQL", 5432)
    import psycopg

    name = f"lq_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mysql_url() -> Iterator[str]:
    require("MariaDB", 3306)
    import pymysql

    name = f"lq_test_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


@pytest.fixture
def lq_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LQ_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def sqlite_manager(lq_home: Path) -> Iterator[QueueManager]:
    """The zero-setup default: one SQLite file is broker, store and cache."""
    manager = QueueManager()
    yield manager
    manager.engine.dispose()


@pytest.fixture
def redis_manager(redis_urls: ServiceUrls, lq_home: Path) -> Iterator[QueueManager]:
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    app.conf.broker_transport_options = {"visibility_timeout": 30}
    manager = QueueManager(app, cache_url=redis_urls.cache)
    yield manager
    manager.before_exit()  # its last second of metrics now, not into the next test's store
    manager.cache.close()


# Every queue a test uses on the shared RabbitMQ (its vhost "/" is not the tests' own).
RABBIT_QUEUES = ("default", "high", "low", "chained", "elsewhere", "other", "mail", "later")


@pytest.fixture
def rabbit_manager(amqp_url: str, redis_urls: ServiceUrls, lq_home: Path) -> Iterator[QueueManager]:
    app = Celery("lq_tests", broker=amqp_url, set_as_current=False)
    manager = QueueManager(app, cache_url=redis_urls.cache)
    _purge(amqp_url)  # RabbitMQ keeps what an interrupted run left in its queues
    yield manager
    manager.before_exit()
    _purge(amqp_url)


def _purge(amqp_url: str) -> None:
    """Empty the tests' queues, each on a channel of its own (purging a queue that was never
    declared closes the channel it is asked on)."""
    with Connection(amqp_url) as conn:
        for queue in RABBIT_QUEUES:
            channel = conn.channel()
            try:
                channel.queue_purge(queue)
            except conn.channel_errors:
                pass  # never declared: nothing in it
            finally:
                with contextlib.suppress(Exception):
                    channel.close()


@pytest.fixture(params=["sqlite", "redis", "rabbitmq"])
def manager(request: pytest.FixtureRequest) -> QueueManager:
    """The same behaviour on every broker: SQLite (default), Redis and RabbitMQ."""
    fixture = {"sqlite": "sqlite_manager", "redis": "redis_manager", "rabbitmq": "rabbit_manager"}[
        request.param
    ]
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@pytest.fixture
def callback_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the chain and batch callbacks of `tests.jobs` write what they were called with."""
    path = tmp_path / "callbacks.log"
    path.touch()
    monkeypatch.setenv(jobs.CALLBACK_TRACE, str(path))
    return path


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    """A file the jobs append what they saw to (they may run in another process)."""
    path = tmp_path / "trace.log"
    path.touch()
    return path


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same store behaviour on every database: SQLite, PostgreSQL and MariaDB."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    fixture = {"postgresql": "postgres_url", "mariadb": "mysql_url"}[request.param]
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]

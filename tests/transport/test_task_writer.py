"""The fast path of a bulk push and of a single dispatch writes the very messages Celery's
send_task would, or steps aside."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import signals
from celery._state import _task_stack

from laravel_queue import Queue, QueueManager
from laravel_queue.connections.celery import CeleryConnection
from laravel_queue.messages.payload import JobMessage
from laravel_queue.transport.deadline import PublishDeadline

from .. import jobs

QUEUE = "writer"


def decoded(raw: bytes) -> dict[str, Any]:
    """An envelope with its body decoded and its random delivery tag left out."""
    envelope: dict[str, Any] = json.loads(raw)
    envelope["body"] = json.loads(base64.b64decode(envelope["body"]))
    del envelope["properties"]["delivery_tag"]
    return envelope


def messages(connection: CeleryConnection) -> list[JobMessage]:
    timed = jobs.Traced("/dev/null", "timed")
    timed.timeout = 7
    grouped = jobs.Traced("/dev/null", "grouped")
    grouped.options.batch_id, grouped.options.batch_index = "batch-1", 3
    plain = jobs.Traced("/dev/null")
    built = [connection._message(job, QUEUE, None) for job in (plain, timed, grouped)]
    built[0].headers["custom"] = "kept"
    return built


def published(connection: CeleryConnection, batch: list[JobMessage], send: str) -> list[Any]:
    """The envelopes in the queue after sending `batch` by `send` ("bulk" or "one by one"
    through send_task), oldest first; the queue is emptied."""
    deadline = PublishDeadline(5.0, 2.0)
    if send == "bulk":
        connection._send_all([(message, 0.0) for message in batch], deadline)
    elif send == "dispatch":  # what a single dispatch does, once its queue is declared
        assert QUEUE in connection._declared
        for message in batch:
            connection.publish(message)
    else:
        for message in batch:
            connection._send(message, deadline)
    broker = redis.Redis.from_url(connection.url)
    raw = broker.lrange(QUEUE, 0, -1)
    broker.delete(QUEUE)
    return [decoded(entry) for entry in reversed(raw)]


@pytest.fixture
def connection(redis_manager: QueueManager) -> CeleryConnection:
    connection = redis_manager.connection()
    assert isinstance(connection, CeleryConnection)
    with connection.app.producer_or_acquire() as producer:
        assert connection._writer.usable(producer.channel), "the fast path is not taken"
    return connection


def both_ways(connection: CeleryConnection) -> tuple[list[Any], list[Any]]:
    """The same messages sent by bulk and one by one: (bulk's, send_task's envelopes)."""
    batch = messages(connection)
    return published(connection, batch, "bulk"), published(connection, batch, "one by one")


def dispatched_and_sent(
    connection: CeleryConnection, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Any], list[Any]]:
    """The same messages published one at a time as a dispatch does (by the writer: send_task
    is not called) and by send_task: (the dispatch's, send_task's envelopes)."""
    batch = messages(connection)
    celery = published(connection, batch, "one by one")
    connection.publish(messages(connection)[0])  # a first dispatch: declares, adopts a channel
    redis.Redis.from_url(connection.url).delete(QUEUE)
    with monkeypatch.context() as patch:
        patch.setattr(connection.app, "send_task", lambda *a, **k: pytest.fail("send_task"))
        fast = published(connection, batch, "dispatch")
    return fast, celery


def test_a_single_dispatch_writes_the_message_send_task_would(
    connection: CeleryConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, celery = dispatched_and_sent(connection, monkeypatch)
    assert len(fast) == 3
    assert fast == celery


def test_a_single_dispatch_from_inside_a_task_is_its_child(
    connection: CeleryConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = connection.app.tasks["celery.backend_cleanup"]
    parent.push_request(id="parent-id", root_id="root-id", called_directly=False)
    _task_stack.push(parent)
    try:
        fast, celery = dispatched_and_sent(connection, monkeypatch)
    finally:
        _task_stack.pop()
        parent.pop_request()
    assert fast == celery
    assert {(e["headers"]["root_id"], e["headers"]["parent_id"]) for e in fast} == {
        ("root-id", "parent-id")
    }


def test_a_single_dispatch_goes_through_send_task_for_publish_signal_receivers(
    redis_manager: QueueManager, publish_receiver: list[str]
) -> None:
    ids = [jobs.Traced("/dev/null").dispatch() for _ in range(3)]
    assert publish_receiver == ids
    assert Queue.pending_size() == 3


def test_bulk_writes_the_messages_send_task_would(connection: CeleryConnection) -> None:
    fast, celery = both_ways(connection)
    assert len(fast) == 3
    assert fast == celery
    timed, grouped = fast[1]["headers"], fast[2]["headers"]
    assert timed["timelimit"] == [12.0, 7]
    assert (grouped["group"], grouped["group_index"]) == ("batch-1", 3)
    assert fast[0]["headers"]["custom"] == "kept"


def test_bulk_writes_prioritized_jobs_to_the_lists_send_task_would(
    connection: CeleryConnection,
) -> None:
    """A job with a priority level goes to Kombu's list of its priority, with the priority
    in its properties, as send_task(priority=...) puts it."""
    channel_sep = "\x06\x16"
    batch = [
        connection._message(jobs.Traced("/dev/null", level).on_priority(level), QUEUE, None)
        for level in ("critical", "high", "low")
    ]
    broker = redis.Redis.from_url(connection.url)
    found: dict[str, list[Any]] = {}
    for send in ("bulk", "one by one"):
        deadline = PublishDeadline(5.0, 2.0)
        if send == "bulk":
            connection._send_all([(message, 0.0) for message in batch], deadline)
        else:
            for message in batch:
                connection._send(message, deadline)
        found[send] = []
        for step in (9, 6, 3):
            key = f"{QUEUE}{channel_sep}{step}"
            found[send] += [decoded(raw) for raw in broker.lrange(key, 0, -1)]
            broker.delete(key)
    assert found["bulk"] == found["one by one"]
    assert [e["properties"]["priority"] for e in found["bulk"]] == [9, 6, 3]


def test_a_job_pushing_from_inside_a_task_is_its_child(connection: CeleryConnection) -> None:
    parent = connection.app.tasks["celery.backend_cleanup"]
    parent.push_request(id="parent-id", root_id="root-id", called_directly=False)
    _task_stack.push(parent)
    try:
        fast, celery = both_ways(connection)
    finally:
        _task_stack.pop()
        parent.pop_request()
    for envelopes in (fast, celery):
        assert {(e["headers"]["root_id"], e["headers"]["parent_id"]) for e in envelopes} == {
            ("root-id", "parent-id")
        }


@pytest.fixture
def publish_receiver() -> Iterator[list[str]]:
    seen: list[str] = []

    def receiver(headers: dict[str, Any], **_: Any) -> None:
        seen.append(str(headers["id"]))

    signals.before_task_publish.connect(receiver, weak=False)
    yield seen
    signals.before_task_publish.disconnect(receiver)


def test_bulk_goes_through_send_task_for_publish_signal_receivers(
    redis_manager: QueueManager, publish_receiver: list[str]
) -> None:
    ids = Queue.bulk([jobs.Traced("/dev/null") for _ in range(5)])
    assert publish_receiver == ids
    assert Queue.pending_size() == 5


def test_bulk_keeps_what_task_routes_add(redis_manager: QueueManager) -> None:
    connection = redis_manager.connection()
    assert isinstance(connection, CeleryConnection)
    connection.app.conf.task_routes = {"*": {"priority": 6}}
    Queue.bulk([jobs.Traced("/dev/null") for _ in range(3)], queue=QUEUE)
    broker = redis.Redis.from_url(connection.url)
    assert broker.llen(QUEUE) == 0
    on_priority = [key for key in broker.keys(f"{QUEUE}*") if key != QUEUE.encode()]
    assert [broker.llen(key) for key in on_priority] == [3]

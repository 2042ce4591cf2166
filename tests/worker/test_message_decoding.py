"""Property: whatever bytes reach a worker, decoding ends in a run or a row, never a crash.

The path a message takes before any job code runs — the transport unwrapping the Redis entry,
Kombu's message, the consumer's shape check, Celery's `Request`, and the record kept of a
refused message — is driven with arbitrary entries and bodies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.worker.request import Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kombu import Connection

from laravel_queue import QueueManager
from laravel_queue.messages.records import FailureRecord
from laravel_queue.transport.envelope import envelope
from laravel_queue.transport.redis import Channel
from laravel_queue.worker.consumer import malformed, raw_message

from .. import jobs  # noqa: F401 - registers tests.jobs.Traced on every app
from ..support import ServiceUrls

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
# Near misses of Celery's [args, kwargs, embed] as well as anything at all.
task_bodies = (
    json_values
    | st.lists(json_values, min_size=3, max_size=3)
    | st.tuples(
        st.lists(json_values, max_size=3),
        st.dictionaries(st.text(), json_values, max_size=3),
        st.none() | st.dictionaries(st.text(), json_values, max_size=3),
    ).map(list)
)
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def channel(redis_urls: ServiceUrls) -> Iterator[Channel]:
    with Connection(redis_urls.broker, transport="laravel_queue.transport.redis:Transport") as c:
        yield c.default_channel


@pytest.fixture
def app(redis_urls: ServiceUrls, lq_home: Any) -> Celery:
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    QueueManager(app, cache_url=redis_urls.cache, database_url="sqlite://")
    return app


def record_of(message: Any) -> FailureRecord:
    return FailureRecord.of(raw_message(message, None, "default"), "refused")


@SETTINGS
@given(entry=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_redis_entry_becomes_a_message_that_can_be_recorded(
    channel: Channel, entry: bytes
) -> None:
    payload = envelope(entry, "default")
    tag = payload["properties"]["delivery_tag"]
    channel.heartbeat.held[tag] = ("default", entry)
    message = channel.Message(payload, channel=channel)
    malformed(message, {})
    assert record_of(message).queue == "default"
    channel.heartbeat.held.pop(tag)


@SETTINGS
@given(body=task_bodies, task_id=st.one_of(st.text(min_size=1), json_values))
def test_a_body_the_shape_check_passes_builds_celery_s_request(
    app: Celery, channel: Channel, body: Any, task_id: Any
) -> None:
    """Either the consumer refuses the message (and can record it), or Celery can take it."""
    task = app.tasks["tests.jobs.Traced"]
    payload = channel.prepare_message(
        json.dumps(body),
        headers={"task": task.name, "id": task_id},
        content_type="application/json",
        content_encoding="utf-8",
    )
    payload["properties"].update(
        delivery_tag="t", delivery_info={"exchange": "default", "routing_key": "default"}
    )
    message = channel.Message(payload, channel=channel)
    if malformed(message, {task.name: object()}) is not None:
        assert record_of(message).uuid
        return
    Request(message, app=app, task=task)

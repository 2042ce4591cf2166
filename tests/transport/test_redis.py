"""The reliable-fetch transport on the shared Redis: take, ack, put back, recover, sweep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from kombu import Connection

from laravel_queue.transport.redis import Channel

from ..support import ServiceUrls
from .messages import publish, take_one

TRANSPORT = "laravel_queue.transport.redis:Transport"


@pytest.fixture
def connection(redis_urls: ServiceUrls) -> Iterator[Connection]:
    with Connection(redis_urls.broker, transport=TRANSPORT) as conn:
        yield conn


@pytest.fixture
def client(redis_urls: ServiceUrls) -> redis.Redis:
    return redis.Redis.from_url(redis_urls.broker)


def in_flight(client: redis.Redis, channel: Channel, queue: str = "q") -> int:
    return int(client.llen(channel.heartbeat.inflight_key(queue)))


def test_a_taken_message_is_in_flight_until_acked(
    connection: Connection, client: redis.Redis
) -> None:
    publish(connection, "hello")
    message = take_one(connection)
    channel = message.channel  # type: ignore[attr-defined]
    assert client.llen("q") == 0 and in_flight(client, channel) == 1
    message.ack()  # type: ignore[attr-defined]
    assert in_flight(client, channel) == 0


def test_a_requeued_message_comes_back_first_and_marked_redelivered(
    connection: Connection, client: redis.Redis
) -> None:
    publish(connection, "first")
    publish(connection, "second")
    message = take_one(connection)
    assert message.payload == "first"  # type: ignore[attr-defined]
    message.reject(requeue=True)  # type: ignore[attr-defined]
    again = take_one(connection)
    assert again.payload == "first"  # type: ignore[attr-defined]
    assert again.delivery_info["redelivered"] is True  # type: ignore[attr-defined]


def test_a_dead_process_s_messages_are_recovered_and_a_live_one_s_are_not(
    connection: Connection, client: redis.Redis
) -> None:
    publish(connection, "mine")
    message = take_one(connection)
    channel: Channel = message.channel  # type: ignore[attr-defined]
    prefix = channel.fetch_prefix
    client.sadd(f"{prefix}processes", "dead:1:x")
    client.sadd(f"{prefix}sources:dead:1:x", "q")
    client.lpush(f"{prefix}inflight:dead:1:x:q", b"lost-entry")
    assert channel.recover_dead_processes() == 1
    assert client.lrange(f"{prefix}recovered:q", 0, -1) == [b"lost-entry"]
    assert in_flight(client, channel) == 1  # this live process keeps what it holds
    assert not client.sismember(f"{prefix}processes", "dead:1:x")


def test_an_entry_no_channel_holds_is_put_back_at_the_second_sweep(
    connection: Connection, client: redis.Redis
) -> None:
    publish(connection, "held")
    message = take_one(connection)
    beat = message.channel.heartbeat  # type: ignore[attr-defined]
    client.lpush(beat.inflight_key("q"), b"orphan")  # a take whose reply never arrived
    assert beat.sweep() == 1  # seen once: could be a reply on its way
    assert client.llen(f"{beat.prefix}recovered:q") == 0
    beat.sweep()
    assert client.lrange(f"{beat.prefix}recovered:q", 0, -1) == [b"orphan"]
    assert client.llen(beat.inflight_key("q")) == 1  # the held message stays

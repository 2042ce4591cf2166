"""The reliable-fetch transport on the shared Redis: take, ack, put back, recover, sweep; and
on a private Redis under a real `lq work`, the acks the event loop sends with its takes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from kombu import Connection

from laravel_queue import QueueManager
from laravel_queue.transport.redis import Channel

from .. import jobs
from ..support import PrivateRedis, ServiceUrls, lines, lq_running, private_redis, wait_until
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


def test_a_put_back_message_counts_in_its_queue_s_size_and_is_purged_with_it(
    connection: Connection, client: redis.Redis
) -> None:
    """Put back, a message waits in the queue's recovered list: Kombu's size and purge looked
    at the queue's own lists only, so `Queue.size` missed it and `Queue.clear` left it."""
    publish(connection, "first")
    publish(connection, "second")
    taken = [take_one(connection), take_one(connection)]
    for message in taken:
        message.reject(requeue=True)  # type: ignore[attr-defined]
    assert client.llen("q") == 0
    channel = connection.channel()
    assert channel.queue_declare("q", passive=True).message_count == 2
    assert channel.queue_purge("q") == 2
    assert channel.queue_declare("q").message_count == 0


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


def test_an_ack_waiting_for_a_take_goes_with_the_next_heartbeat_if_none_comes(
    connection: Connection, client: redis.Redis
) -> None:
    publish(connection, "done")
    message = take_one(connection)
    channel: Channel = message.channel  # type: ignore[attr-defined]
    beat = channel.heartbeat
    # What an event loop's ack leaves when its loop turns no more (no take, no iteration).
    beat.acks_to_send.append(beat.held.pop(message.delivery_tag))  # type: ignore[attr-defined]
    assert in_flight(client, channel) == 1
    beat.beat()
    assert in_flight(client, channel) == 0 and not beat.acks_to_send


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A broker of the test's own: its `INFO stats` count only this worker's reads."""
    with private_redis(tmp_path) as server:
        yield server


def lq_work_on(
    server: PrivateRedis, redis_urls: ServiceUrls, tmp_path: Path
) -> tuple[QueueManager, dict[str, str]]:
    """The test's manager on the private broker (current: what the test dispatches goes
    there), and the environment of an `lq work` on the same."""
    manager = QueueManager(
        Celery("lq_tests", broker=server.url(), set_as_current=False),
        cache_url=redis_urls.cache,
    )
    return manager, {
        "LQ_TEST_BROKER": server.url(),
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/store.sqlite",
    }


def in_flight_anywhere(client: redis.Redis) -> int:
    return sum(int(client.llen(key)) for key in client.keys("lq:fetch:inflight:*"))


def reads(client: redis.Redis) -> int:
    """Commands the server has read from its clients' sockets, each write counting once."""
    return int(client.info("stats")["total_reads_processed"])


def test_a_prefork_worker_sends_each_ack_with_its_next_take_and_keeps_none(
    private_broker: PrivateRedis, redis_urls: ServiceUrls, tmp_path: Path, trace: Path
) -> None:
    _, env = lq_work_on(private_broker, redis_urls, tmp_path)
    client = redis.Redis.from_url(private_broker.url())
    total = 200
    for n in range(total):
        jobs.Traced(str(trace), f"j{n}").dispatch()
    args = ("--app", "tests.apps", "work", "--concurrency", "1")
    with lq_running(*args, env=env):
        wait_until(lambda: len(lines(trace)) >= 20)
        first, ran = reads(client), len(lines(trace))
        wait_until(lambda: len(lines(trace)) == total, timeout=60)
        # The last job's ack has no take after it to go with: it is sent all the same.
        wait_until(lambda: in_flight_anywhere(client) == 0, timeout=2)
        per_job = (reads(client) - first) / (total - ran)
    # A take, and an ack in the same write: one read per job (a beat or two besides).
    # Sent on its own, the ack was a second one: 2 per job.
    assert per_job < 1.2, per_job


def test_an_ack_with_no_take_to_follow_is_sent_within_the_loop_s_iteration(
    private_broker: PrivateRedis, redis_urls: ServiceUrls, tmp_path: Path, trace: Path
) -> None:
    manager, env = lq_work_on(private_broker, redis_urls, tmp_path)
    client = redis.Redis.from_url(private_broker.url())
    args = ("--app", "tests.apps", "work", "--concurrency", "1", "--loglevel", "INFO")
    with lq_running(*args, env=env) as running:
        jobs.TakesAMoment(str(trace), "slow", seconds=2).dispatch()
        wait_until(lambda: in_flight_anywhere(client) == 1)
        manager.connection().pause("default")  # no take follows the job
        wait_until(lambda: any("default paused" in line for line in running.output))
        wait_until(lambda: trace.exists() and lines(trace), timeout=5)
        # Well before the heartbeat (every 5 s), which sends again what could not be sent.
        wait_until(lambda: in_flight_anywhere(client) == 0, timeout=1)

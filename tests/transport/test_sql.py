"""Reliable fetch on a SQL broker, on SQLite, PostgreSQL and MariaDB: take, ack, put back,
recover, and what Kombu's own transport left behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from kombu import Connection
from sqlalchemy import Table, insert, select, update

from laravel_queue.celery_app.configure import register_transports
from laravel_queue.transport.envelope import UNREADABLE_CONTENT_TYPE
from laravel_queue.transport.sql import TAKEN, Channel

from ..support import wait_until
from .messages import publish, take_one


@pytest.fixture
def connection(database_url: str) -> Iterator[Connection]:
    register_transports()  # what binding a manager to an app does first
    with Connection(f"lqsql+{database_url}") as conn:
        yield conn


def rows(channel: Channel) -> list[tuple[bool, int]]:
    """(visible, version) of every message row, oldest first."""
    table: Table = channel.message_cls.__table__
    with channel.fetch.engine.connect() as db:
        found = db.execute(select(table.c.visible, table.c.version).order_by(table.c.id))
        return [(bool(visible), int(version)) for visible, version in found]


def test_a_taken_message_is_hidden_until_acked_and_the_ack_deletes_it(
    connection: Connection,
) -> None:
    publish(connection, "hello")
    message = take_one(connection)
    channel: Channel = message.channel  # type: ignore[attr-defined]
    assert rows(channel) == [(False, TAKEN)]
    assert channel.reserved("q") == 1
    message.ack()  # type: ignore[attr-defined]
    assert rows(channel) == []  # Kombu's transport kept every row forever


def test_a_requeued_message_comes_back_first_and_marked_redelivered(
    connection: Connection,
) -> None:
    publish(connection, "first")
    publish(connection, "second")
    message = take_one(connection)
    assert message.payload == "first"  # type: ignore[attr-defined]
    assert not message.delivery_info.get("redelivered")  # type: ignore[attr-defined]
    message.reject(requeue=True)  # type: ignore[attr-defined]
    again = take_one(connection)
    assert again.payload == "first"  # type: ignore[attr-defined]
    assert again.delivery_info["redelivered"] is True  # type: ignore[attr-defined]


def test_a_row_no_heartbeat_stamps_is_recovered_and_a_held_one_is_not(
    connection: Connection,
) -> None:
    publish(connection, "held")
    publish(connection, "of a dead worker")
    held = take_one(connection)
    channel: Channel = held.channel  # type: ignore[attr-defined]
    table: Table = channel.message_cls.__table__
    with channel.fetch.engine.begin() as db:  # a worker took it, then died
        db.execute(
            update(table)
            .where(table.c.visible.is_(True))
            .values(visible=False, version=TAKEN, timestamp=datetime.now() - timedelta(hours=30))
        )
    channel.fetch.beat()  # the live process stamps what it holds
    assert channel.fetch.recover() == 1
    again = take_one(connection)
    assert again.payload == "of a dead worker"  # type: ignore[attr-defined]
    assert again.delivery_info["redelivered"] is True  # type: ignore[attr-defined]
    assert rows(channel) == [(False, TAKEN), (False, TAKEN + 1)]


def test_rows_kombu_s_own_transport_hid_are_deleted_not_delivered(
    connection: Connection,
) -> None:
    """Kombu's transport never delivers a hidden row again (its ack leaves it): delivering
    them now would rerun every job it ever ran."""
    publish(connection, "pending")
    channel: Channel = connection.default_channel
    table: Table = channel.message_cls.__table__
    with channel.fetch.engine.begin() as db:
        queue_id = db.execute(select(table.c.queue_id)).scalar_one()
        db.execute(
            insert(table).values(
                payload="{}",
                queue_id=queue_id,
                visible=False,
                version=2,
                timestamp=datetime(2020, 1, 1),
            )
        )
    assert channel.fetch.recover() == 0
    assert rows(channel) == [(True, 1)]
    assert take_one(connection).payload == "pending"  # type: ignore[attr-defined]


def test_a_row_that_is_not_a_kombu_envelope_is_delivered_as_unreadable(
    connection: Connection,
) -> None:
    publish(connection, "to make the queue")
    take_one(connection).ack()  # type: ignore[attr-defined]
    channel: Channel = connection.default_channel
    table: Table = channel.message_cls.__table__
    with channel.fetch.engine.begin() as db:
        queue_id = db.execute(select(channel.queue_cls.__table__.c.id)).scalar_one()
        db.execute(insert(table).values(payload="not json {", queue_id=queue_id, visible=True))
    message = take_one(connection)
    assert message.content_type == UNREADABLE_CONTENT_TYPE  # type: ignore[attr-defined]
    assert message.body == b"not json {"  # type: ignore[attr-defined]


def test_the_heartbeat_thread_ends_once_no_channel_takes_and_nothing_is_held(
    database_url: str,
) -> None:
    """A worker run inside a longer-lived process (a test, an embedding app) left the thread
    stamping and recovering its database for as long as the process lived."""
    register_transports()
    options = {"fetch_heartbeat_interval": 0.05}
    with Connection(f"lqsql+{database_url}", transport_options=options) as conn:
        publish(conn, "hello")
        message = take_one(conn)
        fetch = message.channel.fetch  # type: ignore[attr-defined]
        assert fetch.beating
        message.ack()  # type: ignore[attr-defined]
        time.sleep(0.2)
        assert fetch.beating  # the channel is still open: it may take again
    wait_until(lambda: not fetch.beating, timeout=5)

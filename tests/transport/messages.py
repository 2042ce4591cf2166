"""Publishing and taking one message through a Kombu connection, for the transport tests."""

from __future__ import annotations

from kombu import Connection, Exchange, Producer, Queue

from laravel_queue.transport.envelope import UNREADABLE_CONTENT_TYPE


def publish(connection: Connection, body: str, queue: str = "q") -> None:
    Producer(connection.channel(), exchange=Exchange(queue, type="direct")).publish(
        body,
        routing_key=queue,
        serializer="json",
        declare=[Queue(queue, Exchange(queue, type="direct"), queue)],
    )


def take_one(connection: Connection, queue: str = "q") -> object:
    received: list[object] = []
    with connection.Consumer(
        Queue(queue, Exchange(queue, type="direct"), queue),
        callbacks=[lambda body, message: received.append(message)],
        accept=["json", UNREADABLE_CONTENT_TYPE],
    ):
        connection.drain_events(timeout=5)
    return received[0]

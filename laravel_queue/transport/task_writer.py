"""Celery task messages written straight into Redis lists: the fast path of `Queue.bulk`.

For every message Celery's `send_task` resolves the task's options and routes, fires the
publish signals and builds the protocol-2 message, then Kombu serialises, wraps and routes
it again: ~100 µs of Python a message, most of what a bulk push of 10,000 jobs costs.
Inside one bulk push nothing of that can differ between two messages for the same task and
queue, so `TaskWriter` resolves the route once per (task, queue) through Celery's own
router, builds the envelope Kombu would write (the same JSON, bar the random delivery tag
and Kombu's key order) and sends one pipelined LPUSH per `BATCH` messages.

It takes the fast path only where the result is the message Celery would have sent: on a
Redis broker, protocol 2, JSON without compression, no `before_task_publish` /
`after_task_publish` / `task_sent` receiver, no task-sent events, no `task_routes`, no
global key prefix, the queue on a direct exchange without `x-expires`, and task options
that set nothing but time limits. Anything else (`TaskWriter.plan` returns None) goes
through `send_task` as before. One thing `send_task` does is left out: adding each message
to the calling task's result trail (`request.children`), which only a result backend reads,
and job messages are sent with `ignore_result`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from celery import signals
from celery.utils.nodenames import anon_nodename
from kombu.entity import DELIVERY_MODES
from kombu.utils.json import JSONEncoder

from laravel_queue.durations import time_limits
from laravel_queue.messages.ids import new_id
from laravel_queue.messages.payload import JobMessage
from laravel_queue.messages.priorities import REDIS

if TYPE_CHECKING:
    from celery import Celery

BATCH = 1000  # messages per pipelined round trip (Kombu's Producer.batch flushes at 1,000 too)

# The task options that the fast path carries (as time limits); any other one set on a task
# (priority, routing_key, exchange, serializer, ...) sends its messages through send_task.
TIME_LIMIT_OPTIONS = frozenset({"time_limit", "soft_time_limit"})
# The JobMessage options that become protocol-2 headers (a batch's jobs carry them).
GROUP_OPTIONS = frozenset({"group_id", "group_index"})

REPR_LIMIT = 1024  # Celery's own cap for argsrepr/kwargsrepr
EMPTY_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
# Kombu's `dumps` makes an encoder per call; one kept encoder writes the same JSON.
encode_json = JSONEncoder().encode


@dataclass(frozen=True)
class Route:
    """Where and how messages of one task to one queue go, resolved once per bulk push."""

    key: str  # the Redis list (the queue's name: priority 0)
    routing_key: str
    delivery_mode: int
    time_limit: float | None
    soft_time_limit: float | None


@dataclass(frozen=True)
class Sender:
    """What is the same for every message sent by this thread (Celery: `origin`,
    `reply_to`, and the parent task when a job pushes from inside a worker)."""

    origin: str
    reply_to: str
    root_id: str | None
    parent_id: str | None
    pid: int = field(default_factory=os.getpid)  # a forked child names itself anew


class TaskWriter:
    """Builds and writes protocol-2 task messages to Redis for one Celery app."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._routes: dict[tuple[str, str], Route | None] = {}
        self._configured: bool | None = None
        self._local = threading.local()  # this thread's channel and sender

    def usable(self, channel: Any) -> bool:
        """Whether messages written here are exactly those `send_task` would publish. The
        app's settings are read at the first publish and kept, as Celery keeps the router it
        builds from `task_routes` at its first; the publish signals are checked every time."""
        if self._configured is None:
            conf = self.app.conf
            self._configured = bool(
                getattr(channel.connection, "driver_type", None) == "redis"
                and channel.body_encoding == "base64"
                and not getattr(channel, "global_keyprefix", "")
                and conf.task_protocol == 2
                and conf.task_serializer == "json"
                and not conf.task_compression
                and not conf.task_send_sent_event
                and not conf.task_routes
                and not conf.task_inherit_parent_priority
            )
        return (
            self._configured
            and not signals.before_task_publish.receivers
            and not signals.after_task_publish.receivers
            and not signals.task_sent.receivers
        )

    def write_now(self, messages: list[JobMessage]) -> bool:
        """Write `messages` without taking a producer from the pool (a dispatch's largest
        cost after the round trip), with the channel this thread adopted (`adopt`); False,
        writing nothing, before one was adopted or when the messages need `send_task`."""
        channel = getattr(self._local, "channel", None)
        if channel is None or not self.usable(channel):
            return False
        routes = self.plan(messages, channel)
        if routes is None:
            return False
        self.write(channel, messages, routes)
        return True

    def adopt(self, channel: Any) -> None:
        """Keep `channel` (a producer's, just written with) for this thread's next writes.
        Only its settings and helpers are used, never its connection: a reconnection would
        take Kombu's own retries, which no dispatch deadline bounds."""
        self._local.channel = channel

    def adopted(self) -> bool:
        return getattr(self._local, "channel", None) is not None

    def plan(self, messages: list[JobMessage], channel: Any) -> list[Route] | None:
        """The route of each message, or None if any of them needs `send_task`."""
        routes = []
        for message in messages:
            if set(message.options) - GROUP_OPTIONS:
                return None  # link, link_error, chain... belong to Celery's own canvas code
            route = self._route(message.task, message.queue, channel)
            if route is None:
                return None
            routes.append(route)
        return routes

    def write(self, channel: Any, messages: list[JobMessage], routes: list[Route]) -> None:
        """LPUSH every message, in order, `BATCH` to a round trip."""
        sender = self._sender()
        if len(messages) == 1:  # one dispatch: one LPUSH on this thread's own connection
            message, route = messages[0], routes[0]
            priority = redis_priority(message)
            key = channel._q_for_pri(route.key, priority) if priority else route.key
            self._lpush(channel, key, self.envelope(message, route, sender, channel, priority))
            return
        with channel.conn_or_acquire() as client:
            pipe = client.pipeline(transaction=False)
            for start in range(0, len(messages), BATCH):
                for message, route in zip(
                    messages[start : start + BATCH], routes[start : start + BATCH], strict=True
                ):
                    priority = redis_priority(message)
                    key = channel._q_for_pri(route.key, priority) if priority else route.key
                    envelope = self.envelope(message, route, sender, channel, priority)
                    pipe.lpush(key, envelope)
                pipe.execute()

    def envelope(
        self, message: JobMessage, route: Route, sender: Sender, channel: Any, priority: int = 0
    ) -> str:
        """The Kombu envelope of `message` as `send_task` + `Producer.publish` build it."""
        header = message.lq
        time_limit, soft_time_limit = route.time_limit, route.soft_time_limit
        if header is not None and header.timeout is not None:
            time_limit, soft_time_limit = time_limits(header.timeout)
        argsrepr, kwargsrepr = repr_limited(message.args), repr_limited(message.kwargs)
        headers: dict[str, Any] = {
            "lang": "py",
            "task": message.task,
            "id": message.id,
            "shadow": None,
            "eta": None,
            "expires": None,
            "group": message.options.get("group_id"),
            "group_index": message.options.get("group_index"),
            "retries": 0,
            "timelimit": [time_limit, soft_time_limit],
            "root_id": sender.root_id or message.id,
            "parent_id": sender.parent_id,
            "argsrepr": argsrepr,
            "kwargsrepr": kwargsrepr,
            "origin": sender.origin,
            "ignore_result": True,
            "replaced_task_nesting": 0,
            "stamped_headers": None,
            "stamps": {},
        }
        headers.update(message.headers)
        body, body_encoding = channel.encode_body(
            encode_json([message.args, message.kwargs, EMPTY_EMBED]).encode("utf-8"),
            channel.body_encoding,
        )
        return str(
            encode_json(
                {
                    "body": body,
                    "content-encoding": "utf-8",
                    "content-type": "application/json",
                    "headers": headers,
                    "properties": {
                        "correlation_id": message.id,
                        "reply_to": sender.reply_to,
                        "delivery_mode": route.delivery_mode,
                        "delivery_info": {"exchange": "", "routing_key": route.routing_key},
                        "priority": priority,
                        "body_encoding": body_encoding,
                        "delivery_tag": new_id(),
                        # send_task passes its publish options on as message properties too
                        "argsrepr": argsrepr,
                        "kwargsrepr": kwargsrepr,
                    },
                }
            )
        )

    def _lpush(self, channel: Any, key: str, envelope: str) -> None:
        """LPUSH on a Redis connection this thread keeps (made like the channel's pool makes
        them): a client and a pool checkout per message cost more than the command. A
        connection that fails is dropped, and the next command connects again."""
        local = self._local
        connection = getattr(local, "redis", None)
        if connection is None or local.redis_pid != os.getpid():  # a forked child: its own
            pool = channel.pool  # made as its connections are, not counted against its limit
            connection = pool.connection_class(**pool.connection_kwargs)
            local.redis, local.redis_pid = connection, os.getpid()
        try:
            connection.send_command("LPUSH", key, envelope)
            connection.read_response()
        except BaseException:
            connection.disconnect()
            raise

    def _sender(self) -> Sender:
        parent = self.app.current_worker_task
        if parent is None:  # outside a task: the same for every message of this thread
            sender: Sender | None = getattr(self._local, "sender", None)
            if sender is None or sender.pid != os.getpid():
                sender = Sender(anon_nodename(), str(self.app.thread_oid), None, None)
                self._local.sender = sender
            return sender
        request = parent.request
        return Sender(
            origin=anon_nodename(),
            reply_to=str(self.app.thread_oid),
            root_id=request.root_id or request.id,
            parent_id=request.id,
        )

    def _route(self, task: str, queue: str, channel: Any) -> Route | None:
        if (task, queue) not in self._routes:
            self._routes[task, queue] = self._resolve(task, queue, channel)
        route = self._routes[task, queue]
        if route is not None and queue in getattr(channel, "_expires", {}):
            return None  # declared with x-expires: Kombu refreshes the TTL on every publish
        return route

    def _resolve(self, task: str, queue: str, channel: Any) -> Route | None:
        """Celery's route for `task` sent to `queue` (send_task's option merging), if the
        fast path can carry it."""
        registered = self.app._tasks.get(task)
        options: dict[str, Any] = {}
        if registered is not None:
            options = {k: v for k, v in registered._get_exec_options().items() if v is not None}
        options.pop("queue", None)  # the explicit queue wins, as in send_task
        if options.get("serializer") == "json":  # a bound task copies the app's serializer
            del options["serializer"]
        if set(options) - TIME_LIMIT_OPTIONS:
            return None
        destination = self.app.amqp.router.route({"queue": queue}, task, (), {}, registered)
        if set(destination) != {"queue"}:
            return None
        celery_queue = destination["queue"]
        exchange = celery_queue.exchange
        if exchange.type != "direct" or celery_queue.name != queue:
            return None
        mode = exchange.delivery_mode or self.app.conf.task_default_delivery_mode
        return Route(
            key=channel._q_for_pri(queue, 0),
            routing_key=queue,
            delivery_mode=DELIVERY_MODES.get(mode, mode),
            time_limit=options.get("time_limit"),
            soft_time_limit=options.get("soft_time_limit"),
        )


def redis_priority(message: JobMessage) -> int:
    """Kombu's priority for the job's level (0, its queue's own list, for normal)."""
    header = message.lq
    return REDIS[header.priority] if header is not None and header.priority else 0


def repr_limited(value: Any) -> str:
    """What Flower shows; repr() in C instead of Celery's pure-Python saferepr."""
    return repr(value)[:REPR_LIMIT]

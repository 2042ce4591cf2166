"""`CeleryConnection`: jobs published as Celery task messages through a Celery app, one app
per broker URL (Laravel: the Redis, database and SQS drivers in one)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cached_property
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from laravel_queue import events, tracing
from laravel_queue.connections.base import Connection, ConnectionHost
from laravel_queue.durations import time_limits, to_seconds
from laravel_queue.exceptions import (
    ConfigurationError,
    NotInspectableError,
    QueueConnectionError,
)
from laravel_queue.jobs.queueable import Queueable, require_job_instance
from laravel_queue.messages import priorities
from laravel_queue.messages.ids import new_id
from laravel_queue.messages.inspected import InspectedJob
from laravel_queue.messages.payload import JobMessage
from laravel_queue.transport.deadline import PublishDeadline, socket_timeout
from laravel_queue.transport.envelope import pushed_at
from laravel_queue.transport.redis import Channel as ReliableChannel
from laravel_queue.transport.task_writer import TaskWriter, repr_limited
from laravel_queue.urls import RELIABLE_REDIS_TRANSPORT, RELIABLE_SQL_TRANSPORT

PUBLISH_ERRORS = (KombuOperationalError, RedisError, OSError)
# Celery's default `task_publish_retry_policy`, for an app that unset it.
DEFAULT_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_max": 1,
    "interval_step": 0.2,
}


class CeleryConnection(Connection):
    def __init__(self, manager: ConnectionHost, name: str, app: Celery) -> None:
        super().__init__(manager, name)
        self.app = app
        self._declared: set[str] = set()
        self._writer = TaskWriter(app)  # bulk pushes on Redis, without send_task per message

    @property
    def url(self) -> str:
        return str(self.app.conf.broker_url or "")

    def _message(
        self, job: Queueable, queue: str, job_id: str | None, trace: dict[str, str] | None = None
    ) -> JobMessage:
        cls = type(job)
        if cls.__module__ == "__main__":
            raise ConfigurationError(
                f"{cls.__name__} is defined in the script being run (__main__), which no worker "
                "can import, so it would fail there as unregistered; move it into a module "
                "(e.g. shop/jobs.py) and import it from there"
            )
        message = super()._message(job, queue, job_id, trace)
        self._priority(message)  # a level this broker cannot order is refused at dispatch
        return message

    @cached_property
    def _broker_kind(self) -> str:
        """`redis` (our reliable fetch), `kombu-redis` (Kombu's own), `amqp`, `sql`, ..."""
        with self.app.connection_for_write() as conn:  # no network: only the transport class
            transport = type(conn.transport)
            if f"{transport.__module__}:{transport.__qualname__}" == RELIABLE_REDIS_TRANSPORT:
                return "redis"
            kind = str(conn.transport.driver_type)
            return "kombu-redis" if kind == "redis" else kind

    def _priority(self, message: JobMessage) -> int | None:
        """The broker's message priority for the job's level (`messages.priorities`); None
        leaves it unset. A level the broker cannot order raises `ConfigurationError`."""
        header = message.lq
        level = header.priority if header is not None else None
        kind = self._broker_kind
        if kind == "redis":
            return priorities.REDIS[level] if level else None
        if kind == "amqp" and self.app.conf.task_queue_max_priority:
            return priorities.AMQP[level or priorities.NORMAL]
        if level in (None, priorities.NORMAL):
            return None
        raise ConfigurationError(f"{message.task}: {self._why_no_priorities(kind)}")

    def _why_no_priorities(self, kind: str) -> str:
        if kind == "amqp":
            return (
                f"connection {self.name!r} cannot order jobs by priority: declare its queues "
                "with x-max-priority (app.conf.task_queue_max_priority = "
                f"{priorities.AMQP_MAX_PRIORITY}; RabbitMQ keeps a queue's arguments, so "
                "delete and declare existing queues again)"
            )
        if kind == "kombu-redis":
            return (
                f"connection {self.name!r} cannot order jobs by priority with Kombu's own "
                "Redis fetch (reliable_fetch is off), which takes low before high"
            )
        broker = "SQL" if kind == "sql" else kind
        return (
            f"the {broker} broker of connection {self.name!r} takes jobs in the order they came "
            "and cannot order them by priority; use queues (--queue high,default)"
        )

    def pending_by_level(self, queue: str | None = None) -> dict[str, int] | None:
        """Pending jobs per priority level, where the broker can tell (our Redis fetch)."""
        with self.app.connection_for_read() as conn:
            channel = conn.default_channel
            if isinstance(channel, ReliableChannel):
                return dict(channel.waiting_by_level(self.queue_name(queue)))
        return None

    def publish(self, message: JobMessage, delay: float = 0.0) -> None:
        message = self._forwarded(message)
        if delay > 0:
            self._guard(lambda _: self._park(message, delay))
        else:
            self._guard(lambda deadline: self._publish_now([message], deadline))

    def bulk(self, jobs: Iterable[Queueable], queue: str | None = None) -> list[str]:
        """One round trip for the whole list on Redis (Kombu `Producer.batch`)."""
        if self.manager.push_recorder is not None:  # Queue.fake(): each job pushed or recorded
            return super().bulk(jobs, queue)
        built: list[tuple[Queueable, JobMessage, float]] = []
        for job in jobs:
            require_job_instance(job)
            target = self._queue_for(job, queue)
            job_id = new_id()
            with tracing.dispatching(job.display_name(), job_id, target, self.name) as trace:
                message = self._message(job, target, job_id, trace)
            delay = to_seconds(job.options.delay)
            if events.listened(events.JobQueueing):
                events.dispatch(events.JobQueueing(self.name, target, message.id, job, delay))
            built.append((job, message, delay))
        ready = [(message, delay) for _, message, delay in built]
        self._guard(lambda deadline: self._send_all(ready, deadline))
        self._queued(built)
        return [message.id for _, message, _ in built]

    def publish_many(self, messages: Iterable[JobMessage]) -> None:
        """One round trip for the whole list on Redis (Kombu `Producer.batch`)."""
        ready = [(self._forwarded(message), 0.0) for message in messages]
        self._guard(lambda deadline: self._send_all(ready, deadline))

    def _send_all(
        self, messages: list[tuple[JobMessage, float]], deadline: PublishDeadline
    ) -> None:
        ready = []
        for message, delay in messages:
            if delay > 0:
                self._park(message, delay)
            else:
                ready.append(message)
        if ready:
            self._publish_now(ready, deadline)

    def _park(self, message: JobMessage, delay: float) -> None:
        """Keep `message` in the delayed store until it is due, its header saying when (the
        job's wait is counted from then)."""
        due = time.time() + delay
        header = message.lq
        if header is not None:
            message = message.with_lq(replace(header, available_at=due))
        self.manager.delayed.park(message, due)

    def _publish_now(self, messages: list[JobMessage], deadline: PublishDeadline) -> None:
        """On Redis, written by `TaskWriter` when it can; else send_task for each message,
        pipelined by Kombu's `Producer.batch` where the transport can. Once its queues are
        declared, the writer uses its own channel, retried as send_task would be."""
        declared = all(message.queue in self._declared for message in messages)
        if declared and self._retried(lambda: self._writer.write_now(messages), deadline):
            return
        if len(messages) == 1:  # send_task takes its producer within the deadline
            self._send(messages[0], deadline)
            self._adopt_a_channel()
            return
        with self.app.producer_or_acquire() as producer:
            channel = producer.channel
            writer = self._writer
            routes = writer.plan(messages, channel) if writer.usable(channel) else None
            if routes is None:
                with producer.batch():
                    for message in messages:
                        self._send(message, deadline, producer=producer)
                return
            for queue in {message.queue for message in messages} - self._declared:
                producer.maybe_declare(self.app.amqp.queues[queue])
                self._declared.add(queue)
            writer.write(channel, messages, routes)
            writer.adopt(channel)

    def _adopt_a_channel(self) -> None:
        """After a publish by send_task, the pool's producer is connected: its channel's
        settings serve this thread's next writes (`TaskWriter.adopt`)."""
        if not self._writer.adopted():
            with self.app.producer_or_acquire() as producer:
                self._writer.adopt(producer.channel)

    def _send(self, message: JobMessage, deadline: PublishDeadline, producer: Any = None) -> None:
        options: dict[str, Any] = {}
        header = message.lq
        if header is not None and header.timeout is not None:
            hard, soft = time_limits(header.timeout)
            options = {"soft_time_limit": soft, "time_limit": hard}
        self.app.send_task(
            message.task,
            args=message.args,
            kwargs=message.kwargs,
            task_id=message.id,
            queue=message.queue,
            headers=message.headers,
            ignore_result=True,
            producer=producer,
            retry_policy={"errback": deadline},  # merged into the app's policy by Celery
            argsrepr=repr_limited(message.args),
            kwargsrepr=repr_limited(message.kwargs),
            # The queue, its exchange and binding live on the broker once declared, so this
            # process declares each queue once instead of on every publish (~20% of a push).
            declare=[] if message.queue in self._declared else None,
            priority=self._priority(message),
            **message.options,
            **options,
        )
        self._declared.add(message.queue)

    def _retried(self, write: Callable[[], bool], deadline: PublishDeadline) -> bool:
        """`write()`, tried again after a connection error as Celery retries a publish
        (`task_publish_retry_policy`), within the dispatch's deadline."""
        policy = self._retry_policy
        for attempt in range(int(policy["max_retries"]) + 1):
            try:
                return write()
            except self._retry_errors as exc:
                if attempt == policy["max_retries"]:
                    raise
                interval = min(
                    float(policy["interval_start"]) + attempt * float(policy["interval_step"]),
                    float(policy["interval_max"]),
                )
                deadline(exc, interval)  # raises when another try would not fit
                time.sleep(interval)
        return False

    @cached_property
    def _retry_policy(self) -> dict[str, Any]:
        """The app's `task_publish_retry_policy`, read at the first publish (as the router)."""
        return {**DEFAULT_RETRY_POLICY, **(self.app.conf.task_publish_retry_policy or {})}

    @cached_property
    def _retry_errors(self) -> tuple[type[BaseException], ...]:
        with self.app.connection_for_write() as conn:  # no network: only the transport class
            return (*conn.connection_errors, OSError)

    @cached_property
    def _publish_errors(self) -> tuple[type[BaseException], ...]:
        """What a broker that is down or refuses us raises: ours, plus the transport's own
        (py-amqp's AccessRefused for a bad password is neither an OSError nor Kombu's)."""
        with self.app.connection_for_write() as conn:  # no network: only the transport class
            errors = (*PUBLISH_ERRORS, *conn.connection_errors, *conn.channel_errors)
            if _is_sql(conn):  # SQLAlchemy is loaded only where the broker is SQL
                from sqlalchemy.exc import SQLAlchemyError

                errors += (SQLAlchemyError,)
            return errors

    def _guard(self, action: Callable[[PublishDeadline], object]) -> None:
        """Run one dispatch's publishing within `dispatch_timeout` (`transport.deadline`);
        whatever the broker raises becomes a `QueueConnectionError` naming it."""
        timeout = self.manager.dispatch_timeout
        try:
            action(PublishDeadline(timeout, socket_timeout(timeout)))
        except self._publish_errors as exc:
            raise QueueConnectionError(
                f"cannot queue the job on connection '{self.name}' "
                f"({self.manager.mask(self.url)}): {exc}"
            ) from exc

    # -- sizes -------------------------------------------------------------------------------

    def pending_size(self, queue: str | None = None) -> int:
        q = self.queue_name(queue)
        with self.app.connection_for_read() as conn:
            channel = conn.default_channel
            try:
                return int(channel.queue_declare(queue=q, passive=True).message_count)
            except Exception:
                return 0  # a queue never declared holds nothing
            finally:
                if _is_sql(conn):
                    # Kombu's SQL transport counts inside a transaction it never ends, so each
                    # pooled channel kept a database connection until the pool ran out.
                    channel.session.commit()

    def delayed_size(self, queue: str | None = None) -> int:
        return self.manager.delayed.size(self.name, self.queue_name(queue))

    def reserved_size(self, queue: str | None = None) -> int:
        """Jobs taken by a worker and not yet acknowledged (known on Redis and SQL; else 0)."""
        q = self.queue_name(queue)
        with self.app.connection_for_read() as conn:
            channel = conn.default_channel
            if isinstance(channel, ReliableChannel) or _is_reliable_sql(conn):
                return int(channel.reserved(q))
            if conn.transport.driver_type != "redis":
                return 0
            return len(_kombu_unacked(channel, q))

    def oldest_pending_at(self, queue: str | None = None) -> float | None:
        """From the `pushed_at` of the job at the head of the queue, on Redis and the SQL
        broker; AMQP cannot look at a message without taking it."""
        q = self.queue_name(queue)
        with self.app.connection_for_read() as conn:
            channel = conn.default_channel
            if _is_reliable_sql(conn):
                heads = [channel.oldest(q)]
            elif conn.transport.driver_type == "redis":  # the tail is taken next, per priority
                pipe = channel.client.pipeline()
                for priority in channel.priority_steps:
                    pipe.lindex(channel._q_for_pri(q, priority), -1)
                heads = pipe.execute()
            else:
                return None
        times = [t for t in map(pushed_at, heads) if t is not None]
        return min(times, default=None)

    def pending_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        q = self.queue_name(queue)
        return [InspectedJob.from_entry(raw, q) for raw in self._entries(q, limit, taken=False)]

    def delayed_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        q = self.queue_name(queue)
        parked = self.manager.delayed.peek(self.name, q, limit)
        return [InspectedJob.of(message, available_at) for message, available_at in parked]

    def reserved_jobs(self, queue: str | None = None, limit: int = 100) -> list[InspectedJob]:
        q = self.queue_name(queue)
        return [InspectedJob.from_entry(raw, q) for raw in self._entries(q, limit, taken=True)]

    def _entries(self, queue: str, limit: int, *, taken: bool) -> list[bytes | str]:
        """Raw entries of the queue, read where they are (our Redis and SQL transports)."""
        with self.app.connection_for_read() as conn:
            channel = conn.default_channel
            if isinstance(channel, ReliableChannel) or _is_reliable_sql(conn):
                entries: list[bytes | str] = (channel.taken if taken else channel.waiting)(
                    queue, limit
                )
                return entries
            if conn.transport.driver_type == "redis":  # Kombu's own fetch (reliable_fetch off)
                return _kombu_redis_entries(channel, queue, limit, taken=taken)
        raise NotInspectableError(
            f"the {conn.transport.driver_type} broker of connection {self.name!r} cannot show "
            "queued messages without taking them (AMQP has no browsing); sizes "
            "(`Queue.size`) and delayed jobs (`Queue.delayed`) are known, and each job's "
            "status (`Queue.status`)"
        )

    def clear(self, queue: str | None = None) -> int:
        q = self.queue_name(queue)
        with self.app.connection_for_write() as conn:
            try:
                purged = int(conn.default_channel.queue_purge(q) or 0)
            except Exception:
                purged = 0
        return purged + self.manager.delayed.clear(self.name, q)


def _kombu_redis_entries(channel: Any, queue: str, limit: int, *, taken: bool) -> list[Any]:
    """Kombu's Redis transport keeps taken messages in one hash, with their routing keys."""
    if not taken:
        pipe = channel.client.pipeline()
        for priority in channel.priority_steps:
            pipe.lrange(channel._q_for_pri(queue, priority), -limit, -1)
        return [entry for entries in pipe.execute() for entry in reversed(entries)][:limit]
    return [json.dumps(payload) for payload in _kombu_unacked(channel, queue)[:limit]]


def _kombu_unacked(channel: Any, queue: str) -> list[Any]:
    """The envelopes of `queue` in Kombu's hash of taken messages (with their routing keys)."""
    found = []
    for raw in channel.client.hvals(channel.unacked_key):
        try:
            payload, _exchange, routing_key = json.loads(raw)
        except (ValueError, TypeError):
            continue
        if routing_key == queue:
            found.append(payload)
    return found


# The SQL transports are told apart by their transport's names rather than by their classes,
# so that a connection on Redis or AMQP never imports SQLAlchemy to ask.
def _is_sql(conn: Any) -> bool:
    """Kombu's SQLAlchemy transport, or ours built on it."""
    return bool(conn.transport.driver_type == "sql")


def _is_reliable_sql(conn: Any) -> bool:
    """Our SQL transport with reliable fetch (`laravel_queue.transport.sql`)."""
    transport = type(conn.transport)
    return f"{transport.__module__}:{transport.__qualname__}" == RELIABLE_SQL_TRANSPORT

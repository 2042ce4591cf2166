"""Reliable fetch on Redis: Kombu's Redis transport, with a take that marks the message in flight.

Kombu takes a message with BRPOP and records it as unacknowledged (ZADD + HSET) in a second
step: a worker killed between the two loses the message, and one killed after it leaves the
message invisible until the visibility timeout (an hour by default) runs out. Here (the model
is Sidekiq Pro's super_fetch):

- **take**: a message moves from its queue into an in-flight list of this worker process in
  one atomic step — `LMOVE` inside a Lua script that tries the queues in order, then, when
  they are all empty, `BLMOVE` blocking on the first one for `brpop_timeout` seconds;
- **ack**: one `LREM` from that list. The worker's event loop makes every ack (Celery hands
  it the acks of each pool, threads included); it is sent with the next take, in the same
  write, or at the end of that loop iteration when no take follows: the loop never waits a
  round trip for it. An ack that cannot reach Redis is kept and sent again (a job that
  finished is never run again because its ack was lost to a Redis restart);
- **heartbeat**: every worker process keeps a key alive (`fetch_heartbeat_ttl`, refreshed
  every `fetch_heartbeat_interval` seconds from a thread of its own, so a long job on the
  solo pool does not stop it);
- **recovery**: every `unacked_restore_interval` seconds each worker looks for processes whose
  heartbeat has expired and moves their in-flight messages to a `recovered` list per queue,
  in one script. A recovered message is taken before the queue itself and is delivered marked
  `redelivered`, so the reservation that died is counted as an attempt (Laravel's rule).

A Redis list entry that is not a Kombu envelope (raw JSON, a body that is not base64) is
delivered as a message of content type `UNREADABLE_CONTENT_TYPE` carrying the raw bytes, so
the consumer records it in `failed_jobs` instead of crashing on it.

Requires Redis 6.2 or newer (`LMOVE`/`BLMOVE`). Kombu's `global_keyprefix` is not supported.
Use it by URL as Kombu's transport: `broker_transport =
"laravel_queue.transport.redis:Transport"` (laravel_queue sets this on every Redis app it
binds). See docs/internals/reliable-fetch.md.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str

from laravel_queue.messages.priorities import REDIS_FETCH_ORDER, redis_level
from laravel_queue.transport.envelope import (
    Message,
    envelope,
    mark_redelivered,
    running_delivery_tags,
)
from laravel_queue.transport.liveness import Heartbeat, heartbeat_for
from laravel_queue.transport.scripts import RECOVER, TAKE

logger = logging.getLogger("laravel_queue.worker")


class QoS(kombu_redis.QoS):  # type: ignore[misc]
    """Acks against the in-flight list; nothing is written when a message is delivered (the
    take already marked it)."""

    def append(self, message: Any, delivery_tag: str) -> None:
        virtual.QoS.append(self, message, delivery_tag)

    def ack(self, delivery_tag: str) -> None:
        self.channel.settle(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if requeue:
            self.channel.put_back(delivery_tag)
        else:
            self.channel.settle(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)

    def restore_unacked(self, client: Any = None) -> None:
        """At channel close (a warm shutdown, or a lost connection), put back what was taken
        but is not running. Kombu puts back running jobs too, and so runs them twice after a
        reconnect; here a running job stays in flight and is acknowledged when it ends (acks
        go through the process's heartbeat connection, not the closed channel)."""
        running = running_delivery_tags()
        for tag in list(self._delivered):
            if tag not in running:
                self.channel.put_back(tag)
        self._delivered.clear()

    def restore_visible(self, start: int = 0, num: int = 10, interval: int = 10) -> None:
        self.channel.recover_dead_processes()


class Channel(kombu_redis.Channel):  # type: ignore[misc]
    QoS = QoS
    Message = Message

    fetch_prefix = "lq:fetch:"
    fetch_heartbeat_ttl = 30
    fetch_heartbeat_interval = 5

    from_transport_options = (
        *kombu_redis.Channel.from_transport_options,
        "fetch_prefix",
        "fetch_heartbeat_ttl",
        "fetch_heartbeat_interval",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._block_next = False
        self._fetching = "EVAL"
        self._blocked_on = ""
        self._heartbeat: Heartbeat | None = None
        self._recover = self.client.register_script(RECOVER)
        self._poller: Poller = self.connection.cycle
        self._acks_in_flight: list[tuple[str, bytes]] = []
        self._keys_by_order: dict[tuple[str, ...], list[str]] = {}

    # -- who this process is ----------------------------------------------------------------

    @property
    def heartbeat(self) -> Heartbeat:
        """This process's heartbeat, kept by the channel once found (a closed channel no
        longer knows its connection)."""
        if self._heartbeat is None:
            self._heartbeat = heartbeat_for(self)
        return self._heartbeat

    def basic_consume(self, queue: str, *args: Any, **kwargs: Any) -> Any:
        result = super().basic_consume(queue, *args, **kwargs)
        if queue not in self._fanout_queues:
            sources = [self._q_for_pri(queue, pri) for pri in self.priority_steps]
            self.heartbeat.client.sadd(f"{self.fetch_prefix}sources:{self.heartbeat.id}", *sources)
            self.heartbeat.announce()  # at once, not at the next beat
        return result

    # -- take (replaces Kombu's BRPOP) -------------------------------------------------------

    def _brpop_start(self, timeout: float | None = None) -> None:
        if timeout is None:
            timeout = self.brpop_timeout
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        heartbeat = self.heartbeat
        if self._block_next:
            blocked = queues[0]  # its own list, where jobs without a priority level go
            self._fetching, self._blocked_on = "BLMOVE", blocked
            inflight = heartbeat.inflight_key(blocked)
            command = ["BLMOVE", blocked, inflight, "RIGHT", "LEFT", timeout or 0]
        else:
            self._fetching = "EVAL"
            prefix, recovered = heartbeat.inflight_key(""), f"{self.fetch_prefix}recovered:"
            command = ["EVAL", TAKE, 0, prefix, recovered, *self._take_keys(queues)]
        connection = self.client.connection
        acks = self._acks_to_carry()
        self._in_poll = connection
        self._brpop_sent_at = kombu_redis.monotonic()
        if not acks:
            connection.send_command(*command)
            return
        self._acks_in_flight = acks
        lrems = [("LREM", heartbeat.inflight_key(source), 1, raw) for source, raw in acks]
        try:
            connection.send_packed_command(connection.pack_commands([*lrems, command]))
        except Exception:
            self._acks_not_sent(acks)
            raise

    def _take_keys(self, queues: list[str]) -> list[str]:
        """The lists a take looks at, in order: priority levels first (critical, high, normal,
        low: `messages.priorities`), then queue order within each, as Kombu's own fetch orders
        its priority steps. Made once for each order of the queues."""
        order = tuple(queues)
        keys = self._keys_by_order.get(order)
        if keys is None:
            keys = [self._q_for_pri(queue, pri) for pri in REDIS_FETCH_ORDER for queue in queues]
            self._keys_by_order[order] = keys
        return keys

    def _acks_to_carry(self) -> list[tuple[str, bytes]]:
        """The event loop's acks to send with this take: all of them with a take that answers
        at once (the script); before a blocking take (the queues were empty) they are sent on
        their own, so their replies do not wait behind it."""
        acks = self.heartbeat.take_acks_to_send()
        if acks and self._block_next:
            self._ack_now(acks)
            return []
        return acks

    def _read_carried_acks(self, connection: Any) -> None:
        acks, self._acks_in_flight = self._acks_in_flight, []
        try:
            for _ in acks:
                self.client.parse_response(connection, "LREM")
        except Exception:
            self._acks_not_sent(acks)
            raise

    def _acks_not_sent(self, acks: list[tuple[str, bytes]]) -> None:
        """Acks whose write or reply was lost with the connection: the heartbeat sends them
        again (an LREM of an entry already gone removes nothing)."""
        self.heartbeat.unsent_acks.extend(acks)
        self._acks_in_flight = []

    def _brpop_read(self, **options: Any) -> bool:
        try:
            try:
                if self._acks_in_flight:
                    self._read_carried_acks(self.client.connection)
                reply = self.client.parse_response(
                    self.client.connection, self._fetching, **options
                )
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            # The reply is read: an ack made while this message is delivered (the solo pool
            # runs the job here) waits for the next take instead of a round trip of its own.
            self._in_poll = None
            if self._fetching == "BLMOVE":
                taken = None if reply is None else (self._blocked_on, reply, 0)
            else:
                taken = reply or None
            if taken is None:
                # Nothing in any queue: block on the first until something comes (or the
                # timeout passes and the others, and the priority lists, are looked at again).
                self._block_next = not self._block_next
                raise kombu_redis.Empty()
            self._block_next = False
            source, raw, recovered = taken
            self._deliver_taken(bytes_to_str(source), raw, bool(recovered))
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()

    def _deliver_taken(self, source: str, raw: bytes, recovered: bool) -> None:
        queue = source.rsplit(self.sep, 1)[0]
        payload = envelope(raw, queue)
        tag = payload["properties"]["delivery_tag"]
        self.heartbeat.held[tag] = (source, raw)
        if recovered:
            mark_redelivered(payload)
        self._queue_cycle.rotate(queue)
        self.connection._deliver(payload, queue)

    # -- settle ------------------------------------------------------------------------------

    def settle(self, tag: str) -> None:
        """The ack: one LREM. Made by the event loop, it goes with the next take
        (`_brpop_start`) or at the end of the loop's iteration (`Poller`); made off the loop
        (a program consuming without one), or while a blocking take is under way, it is sent
        at once. One that cannot reach Redis is sent again by the heartbeat."""
        taken = self.heartbeat.held.pop(tag, None)
        if taken is None:
            return
        if self._poller.loop_thread == threading.get_ident() and self._take_answers_soon():
            self.heartbeat.acks_to_send.append(taken)
        else:
            self._ack_now([taken])

    def _take_answers_soon(self) -> bool:
        """No take is under way, or one that answers at once (the script, not `BLMOVE`)."""
        return not self._in_poll or self._fetching == "EVAL"

    def send_waiting_acks(self) -> None:
        """The event loop's acks no take carried this iteration (no take was started: the
        pool is full, or the queues are paused), sent now. While a take that answers at once
        is under way, they wait for the take after it."""
        if self._heartbeat is None:  # a channel that never took anything (a producer's)
            return
        if self._in_poll and self._take_answers_soon() and self.qos.can_consume():
            return
        acks = self._heartbeat.take_acks_to_send()
        if acks:
            self._ack_now(acks)

    def _ack_now(self, acks: list[tuple[str, bytes]]) -> None:
        heartbeat = self.heartbeat
        try:
            pipe = heartbeat.client.pipeline(transaction=False)
            for source, raw in acks:
                pipe.lrem(heartbeat.inflight_key(source), 1, raw)
            pipe.execute()
        except Exception as exc:
            logger.warning(
                "%d ack(s) not sent (%r); sending them again with the heartbeat", len(acks), exc
            )
            heartbeat.unsent_acks.extend(acks)

    def taken_entry(self, tag: str) -> tuple[str, bytes]:
        """The queue and raw entry of a message this process holds (for `Message`)."""
        source, raw = self.heartbeat.held.get(tag, ("?", b""))
        return source.rsplit(self.sep, 1)[0], raw

    def put_back(self, tag: str) -> None:
        """Back to the front of its queue, marked redelivered (reject with requeue, a warm
        shutdown with messages not started)."""
        taken = self.heartbeat.held.pop(tag, None)
        if taken is not None:
            self.heartbeat.put_back(*taken)

    def recover_dead_processes(self) -> int:
        """Move the in-flight messages of processes whose heartbeat expired back to their
        queues; returns how many."""
        moved = 0
        client = self.heartbeat.client
        for raw_id in client.smembers(f"{self.fetch_prefix}processes"):
            process = bytes_to_str(raw_id)
            if process == self.heartbeat.id:
                continue
            count = int(self._recover(args=[self.fetch_prefix, process], client=client))
            if count > 0:
                logger.warning(
                    "recovered %d in-flight message(s) of dead worker process %s", count, process
                )
            moved += max(count, 0)
        return moved

    def reserved(self, queue: str) -> int:
        """Messages of `queue` taken by a worker and not yet acknowledged, on every host."""
        with self.conn_or_acquire() as client:
            pipe = client.pipeline()
            for key in self._inflight_keys(client, queue):
                pipe.llen(key)
            return sum(int(n) for n in pipe.execute())

    def _inflight_keys(self, client: Any, queue: str) -> list[str]:
        """The in-flight lists of `queue`, one per worker process and priority."""
        processes = [bytes_to_str(p) for p in client.smembers(f"{self.fetch_prefix}processes")]
        return [
            f"{self.fetch_prefix}inflight:{process}:{self._q_for_pri(queue, pri)}"
            for process in processes
            for pri in self.priority_steps
        ]

    def _waiting_keys(self, queue: str) -> list[str]:
        """The lists where `queue`'s jobs wait, in the order workers take them: for each
        priority level, its recovered list (put back, or recovered from a dead worker) first,
        then the level's own list."""
        keys = []
        for pri in REDIS_FETCH_ORDER:
            key = self._q_for_pri(queue, pri)
            keys += [f"{self.fetch_prefix}recovered:{key}", key]
        return keys

    def _each_waiting_list(self, queue: str, command: str, *args: Any) -> list[Any]:
        """One command on each of `queue`'s waiting lists (`_waiting_keys`), in one round
        trip: the replies in that order."""
        with self.conn_or_acquire() as client:
            pipe = client.pipeline()
            for key in self._waiting_keys(queue):
                pipe.execute_command(command, key, *args)
            return list(pipe.execute())

    def waiting(self, queue: str, limit: int) -> list[bytes]:
        """The first `limit` entries of `queue` in the order workers take them (recovered
        ones first, then by priority, each list from its tail), left where they are."""
        lists = self._each_waiting_list(queue, "LRANGE", -limit, -1)
        return [entry for entries in lists for entry in reversed(entries)][:limit]

    def waiting_by_level(self, queue: str) -> dict[str, int]:
        """How many jobs of each priority level wait on `queue` (recovered ones included)."""
        sizes = self._each_waiting_list(queue, "LLEN")
        return {
            redis_level(pri): int(sizes[2 * i]) + int(sizes[2 * i + 1])
            for i, pri in enumerate(REDIS_FETCH_ORDER)
        }

    # Kombu's own size, existence and purge of a queue look at its priority lists only: a job
    # put back or recovered waits in a recovered list, and counts as the queue's too (a
    # passive declare, `Queue.size`, `Queue.clear`).

    def _size(self, queue: str) -> int:
        return sum(self._each_waiting_list(queue, "LLEN"))

    def _has_queue(self, queue: str, **kwargs: Any) -> bool:
        return any(self._each_waiting_list(queue, "EXISTS"))

    def _purge(self, queue: str) -> int:
        keys = self._waiting_keys(queue)
        with self.conn_or_acquire() as client:
            pipe = client.pipeline()
            for key in keys:
                pipe.llen(key)
            pipe.delete(*keys)
            return sum(pipe.execute()[:-1])

    def taken(self, queue: str, limit: int) -> list[bytes]:
        """Up to `limit` entries of `queue` taken by a worker and not yet acknowledged."""
        with self.conn_or_acquire() as client:
            pipe = client.pipeline()
            for key in self._inflight_keys(client, queue):
                pipe.lrange(key, 0, limit - 1)
            lists = pipe.execute()
        return [entry for entries in lists for entry in entries][:limit]

    def close(self) -> None:
        if self._in_poll:
            # A take is under way: what it took goes back, nobody is left to run it.
            try:
                self._closing_read()
            except Exception:
                logger.debug("reading the last take at close failed", exc_info=True)
            self._in_poll = None
        self.send_waiting_acks()
        super().close()

    def _closing_read(self) -> None:
        if self._acks_in_flight:
            self._read_carried_acks(self.client.connection)
        reply = self.client.parse_response(self.client.connection, self._fetching)
        if not reply:
            return
        source, raw = (self._blocked_on, reply) if self._fetching == "BLMOVE" else reply[:2]
        source = bytes_to_str(source)
        tag = f"closing-{uuid.uuid4()}"
        self.heartbeat.held[tag] = (source, raw)
        self.put_back(tag)


class Poller(kombu_redis.MultiChannelPoller):  # type: ignore[misc]
    """Kombu's poller of the channels, which also sends at the end of each event-loop
    iteration the acks that no take carried."""

    def __init__(self) -> None:
        super().__init__()
        # The thread running the worker's event loop; acks are deferred only on it (None
        # without an event loop: each ack is then sent at once).
        self.loop_thread: int | None = None

    def on_poll_start(self) -> None:
        super().on_poll_start()
        for channel in self._channels:
            channel.send_waiting_acks()


class Transport(kombu_redis.Transport):  # type: ignore[misc]
    """Kombu's Redis transport with reliable fetch (the `redis` driver to Celery)."""

    Channel = Channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cycle = Poller()

    def register_with_event_loop(self, connection: Any, loop: Any) -> None:
        super().register_with_event_loop(connection, loop)
        self.cycle.loop_thread = threading.get_ident()

"""The heartbeat of a worker process on reliable fetch, and what it does besides beating.

One per process and Redis server. A daemon thread keeps `alive:{process}` from expiring,
sends again the acks that could not reach Redis, and now and then puts back entries of the
process's in-flight lists that none of its channels holds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from typing import Any, Protocol

import redis
from kombu.utils.encoding import bytes_to_str

from laravel_queue.transport.scripts import PUT_BACK


class FetchChannel(Protocol):
    """What a heartbeat needs of the channel that makes it (`transport.redis.Channel`, which
    imports this module: named here as a protocol, so this module does not know that one)."""

    fetch_prefix: str
    fetch_heartbeat_ttl: float
    fetch_heartbeat_interval: float
    connection: Any

    def _connparams(self) -> dict[str, Any]: ...


logger = logging.getLogger("laravel_queue.worker")

# How often (in heartbeats) a process looks for entries in its own in-flight lists that none
# of its channels holds; one found twice in a row is put back. Every 2 beats (10 s by
# default): a take whose reply was lost to a Redis restart comes back within about 20 s (it
# waited 60-120 s at every 12 beats, while its worker went on with newer jobs).
SWEEP_EVERY_BEATS = 2


class Heartbeat:
    """One per worker process and Redis server: the key that says this process is alive,
    kept by a daemon thread, which also sends again the acks that could not be sent.

    It has a connection pool of its own, which the channels of the process use to settle
    messages: Celery acknowledges a message through the channel it came from, and after a
    reconnect that channel is closed (Kombu's own ack then fails on it).
    """

    def __init__(self, channel: FetchChannel) -> None:
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.prefix = channel.fetch_prefix
        self.ttl = channel.fetch_heartbeat_ttl
        self.interval = channel.fetch_heartbeat_interval
        self.client: Any = redis.Redis(
            connection_pool=redis.ConnectionPool(**channel._connparams())
        )
        # delivery tag -> (queue key, entry): what the channels of this process hold
        self.held: dict[str, tuple[str, bytes]] = {}
        # (queue key, entry) of acks and put-backs that could not reach Redis, sent again
        self.unsent_acks: deque[tuple[str, bytes]] = deque()
        self.unsent_put_backs: deque[tuple[str, bytes]] = deque()
        # (queue key, entry) of acks made by the event loop, to go with its next take
        self.acks_to_send: deque[tuple[str, bytes]] = deque()
        self._unknown: set[tuple[str, bytes]] = set()
        self._beats = 0
        self._put_back = self.client.register_script(PUT_BACK)
        self.beat()
        threading.Thread(target=self._run, name="lq-fetch-heartbeat", daemon=True).start()

    def inflight_key(self, source: str) -> str:
        return f"{self.prefix}inflight:{self.id}:{source}"

    def put_back(self, source: str, raw: bytes) -> None:
        """Move an entry of this process from in flight to the front of its queue; one that
        cannot reach Redis (a channel closed because Redis went away) is sent again with the
        next beats, as an ack is, instead of waiting for a sweep."""
        try:
            self._put_back_now(source, raw)
        except Exception as exc:
            logger.warning(
                "putting back a message failed (%r); trying again with the heartbeat", exc
            )
            self.unsent_put_backs.append((source, raw))

    def _put_back_now(self, source: str, raw: bytes) -> None:
        recovered = f"{self.prefix}recovered:{source}"
        self._put_back(args=[self.inflight_key(source), recovered, raw], client=self.client)

    def announce(self) -> None:
        """Say this process is alive and has in-flight lists (what `reserved()` and the
        recovery of other workers read)."""
        self.client.pipeline().sadd(f"{self.prefix}processes", self.id).set(
            f"{self.prefix}alive:{self.id}", "1", ex=max(1, int(self.ttl))
        ).execute()

    def take_acks_to_send(self) -> list[tuple[str, bytes]]:
        """Every ack waiting for the event loop's next take, removed from the queue (one by
        one: the heartbeat thread may be taking them too)."""
        waiting = self.acks_to_send
        return [waiting.popleft() for _ in range(len(waiting))]

    def beat(self) -> None:
        self.announce()
        while self.acks_to_send:  # the event loop's, when no take or loop turn carried them
            taken = self.acks_to_send.popleft()
            try:
                self.client.lrem(self.inflight_key(taken[0]), 1, taken[1])
            except Exception:
                self.unsent_acks.append(taken)
                raise
        while self.unsent_acks:
            source, raw = self.unsent_acks[0]
            self.client.lrem(self.inflight_key(source), 1, raw)
            self.unsent_acks.popleft()
        while self.unsent_put_backs:
            self._put_back_now(*self.unsent_put_backs[0])
            self.unsent_put_backs.popleft()
        self._beats += 1
        if self._beats % SWEEP_EVERY_BEATS == 0:
            self.sweep()

    def sweep(self) -> int:
        """Put back entries of this process's in-flight lists that no channel holds, seen so
        at two sweeps in a row (a take whose reply was lost with its connection)."""
        sources = [bytes_to_str(s) for s in self.client.smembers(f"{self.prefix}sources:{self.id}")]
        in_lists = {
            (source, raw)
            for source in sources
            for raw in self.client.lrange(self.inflight_key(source), 0, -1)
        }
        # copies: the channels change these from the main thread
        waiting = {
            *list(self.held.values()),
            *list(self.acks_to_send),
            *list(self.unsent_acks),
            *list(self.unsent_put_backs),
        }
        unknown = in_lists - waiting
        for source, raw in unknown & self._unknown:
            logger.warning("putting back a message this worker took but never received")
            self._put_back_now(source, raw)
        self._unknown = unknown - self._unknown
        return len(unknown)

    def _run(self) -> None:
        while True:  # a daemon thread: it ends with its process
            time.sleep(self.interval)
            try:
                self.beat()
            except Exception as exc:  # Redis down: the next beat tries again
                logger.warning("reliable fetch heartbeat failed: %r", exc)


_heartbeats: dict[tuple[int, str], Heartbeat] = {}
_heartbeats_lock = threading.Lock()


def heartbeat_for(channel: FetchChannel) -> Heartbeat:
    """This process's heartbeat for the channel's server (made on first use)."""
    key = (os.getpid(), channel.fetch_prefix + channel.connection.client.as_uri())
    with _heartbeats_lock:
        beat = _heartbeats.get(key)
        if beat is None:
            beat = _heartbeats[key] = Heartbeat(channel)
        return beat

"""Reliable fetch on a SQL broker (`sqla+sqlite://`, `sqla+postgresql://`, ...): Kombu's
SQLAlchemy transport, with a take that marks the row in flight and an ack that deletes it.

Kombu's SQL transport hides a taken row (`visible = 0`) and never touches it again: an ack
changes nothing in the database, so the table grows by one row per job forever, and a worker
killed while running a job loses it (the row stays hidden). Its take is a `SELECT ... FOR
UPDATE` and an `UPDATE` in a transaction, and after every job its worker sleeps a whole
polling interval before looking for the next. Here (the model is Laravel's database queue,
whose `reserved_at` plays the part of the heartbeat's timestamp):

- **take**: one `UPDATE ... RETURNING` (on SQLite and PostgreSQL; MariaDB and MySQL, which
  cannot return from an UPDATE, take with `SELECT ... FOR UPDATE SKIP LOCKED` and an UPDATE in
  one transaction): the oldest visible row of the queue becomes hidden, stamped with the time
  and counted (`version`);
- **ack**: one `DELETE` of that row; **reject with requeue** and a warm shutdown put the row
  back (`visible = 1`), in its place at the front;
- **heartbeat**: a thread of each worker process stamps the rows it holds every
  `fetch_heartbeat_interval` seconds (2), so a long job is never taken for a dead one;
- **recovery**: every `unacked_restore_interval` seconds (2) a worker makes visible again
  the rows whose stamp is older than `fetch_heartbeat_ttl` (10 s): their process died, and
  its jobs run again within about 12 s (30 s and 10 s before: a SIGKILLed worker's jobs
  waited up to 40 s on the embedded default, against 3-10 s on Redis). Taken
  again, such a row is delivered `redelivered`, so the reservation that died counts as an
  attempt (Laravel's rule).

`version` counts takes from `TAKEN` on (rows Kombu's own transport took have small versions;
they are rows Kombu would never deliver again, so recovery deletes them). Hosts sharing one
database must agree on the time to within the heartbeat TTL.

Use it as Kombu's transport: `broker_transport = "laravel_queue.transport.sql:Transport"`
(laravel_queue sets this on every `sqla+` app it binds). See docs/internals/reliable-fetch.md.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from kombu.transport import sqlalchemy as kombu_sql
from kombu.transport import virtual
from sqlalchemy import Engine, Table, bindparam, case, delete, func, select, update

from laravel_queue.transport.envelope import (
    Message,
    envelope,
    mark_redelivered,
    running_delivery_tags,
)
from laravel_queue.transport.options import NOT_ENGINE_OPTIONS

logger = logging.getLogger("laravel_queue.worker")

# The first take of a row sets its version to TAKEN; each take after adds one.
TAKEN = 101


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class QoS(virtual.QoS):  # type: ignore[misc]
    """Acks against the message table: an ack deletes the row, a requeue shows it again."""

    def ack(self, delivery_tag: str) -> None:
        self.channel.fetch.settle(delivery_tag)
        super().ack(delivery_tag)
        self.channel.connection.settled.set()

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if requeue:
            self.channel.fetch.put_back(delivery_tag)
        else:
            self.channel.fetch.settle(delivery_tag)
        super().ack(delivery_tag)
        self.channel.connection.settled.set()

    def restore_unacked(self) -> None:
        """At channel close, put back what was taken but is not running (Kombu would publish
        a copy of every one, running or not, and leave the originals hidden)."""
        running = running_delivery_tags()
        for tag in list(self._delivered):
            if tag not in running:
                self.channel.fetch.put_back(tag)
        self._delivered.clear()


@dataclass(frozen=True)
class FetchTimes:
    """Seconds: a row unstamped for `ttl` belongs to a dead process; rows are stamped every
    `interval`; stale rows are looked for every `recover_every`."""

    ttl: float
    interval: float
    recover_every: float


class Fetch:
    """One per worker process and database: what the process holds, the thread stamping it
    (and recovering dead processes' rows), and the statements that take, settle and recover
    rows (engine-level, thread-safe: Celery acknowledges from its pool's result thread)."""

    def __init__(self, engine: Engine, messages: Table, times: FetchTimes) -> None:
        self.engine = engine
        self.messages = messages
        self.times = times
        self.held: dict[str, tuple[int, str, bytes]] = {}  # tag -> (row id, queue, raw)
        self._take = self._take_statement()
        self._takers: set[int] = set()  # ids of the open channels that take from here
        self._beating = False
        self._lock = threading.Lock()

    def joined(self, channel: object) -> None:
        """The heartbeat thread starts with a channel's first take: a process that only
        publishes or counts (a web app asking `Queue.size()`) holds nothing and runs no
        thread."""
        with self._lock:
            self._takers.add(id(channel))
            if not self._beating:
                self._beating = True
                threading.Thread(target=self._run, name="lq-fetch-heartbeat", daemon=True).start()

    def left(self, channel: object) -> None:
        """A closed channel; once none takes and nothing is held, the thread ends (a worker
        run inside a longer-lived process must not leave it stamping a database forever)."""
        with self._lock:
            self._takers.discard(id(channel))

    @property
    def beating(self) -> bool:
        """Whether the heartbeat thread runs."""
        return self._beating

    def _still_needed(self) -> bool:
        with self._lock:
            self._beating = bool(self._takers or self.held)
            return self._beating

    def _take_statement(self) -> Any:
        m = self.messages
        oldest = (
            select(m.c.id)
            .where(m.c.queue_id == bindparam("wanted_queue"), m.c.visible.is_(True))
            .order_by(m.c.id)
            .limit(1)
        )
        if self.engine.dialect.name != "sqlite":
            oldest = oldest.with_for_update(skip_locked=True)
        taken = update(m).values(
            visible=False,
            timestamp=bindparam("taken_at"),
            version=case((m.c.version < TAKEN, TAKEN), else_=m.c.version + 1),
        )
        if self.engine.dialect.update_returning:
            where = m.c.id == oldest.scalar_subquery()
            return taken.where(where).returning(m.c.id, m.c.payload, m.c.version)
        find = oldest.add_columns(m.c.payload, m.c.version)
        return find, taken.where(m.c.id == bindparam("row_id"))

    def take(self, queue_id: int, queue: str) -> dict[str, Any] | None:
        """The oldest visible message of the queue, now hidden and held by this process."""
        with self.engine.begin() as db:
            if isinstance(self._take, tuple):  # no UPDATE ... RETURNING: find, then mark
                find, mark = self._take
                row = db.execute(find, {"wanted_queue": queue_id}).first()
                if row is not None:
                    db.execute(mark, {"row_id": row.id, "taken_at": _now()})
                    version = TAKEN if row.version < TAKEN else row.version + 1
            else:
                row = db.execute(self._take, {"wanted_queue": queue_id, "taken_at": _now()}).first()
                version = 0 if row is None else row.version
        if row is None:
            return None
        raw = row.payload.encode() if isinstance(row.payload, str) else bytes(row.payload)
        payload = envelope(raw, queue)
        if version > TAKEN:  # taken before: by a process that died, or put back
            mark_redelivered(payload)
        self.held[payload["properties"]["delivery_tag"]] = (row.id, queue, raw)
        return payload

    def settle(self, tag: str) -> None:
        taken = self.held.pop(tag, None)
        if taken is not None:
            with self.engine.begin() as db:
                db.execute(delete(self.messages).where(self.messages.c.id == taken[0]))

    def put_back(self, tag: str) -> None:
        taken = self.held.pop(tag, None)
        if taken is not None:
            with self.engine.begin() as db:
                db.execute(
                    update(self.messages).where(self.messages.c.id == taken[0]).values(visible=True)
                )

    def recover(self) -> int:
        """Show again the rows whose holder stopped stamping them; returns how many."""
        m = self.messages
        with self.engine.begin() as db:
            stale = _now() - timedelta(seconds=self.times.ttl)
            shown = db.execute(
                update(m)
                .where(m.c.visible.is_(False), m.c.version >= TAKEN, m.c.timestamp < stale)
                .values(visible=True)
            ).rowcount
            # Hidden by Kombu's own transport, which never delivers them again.
            db.execute(delete(m).where(m.c.visible.is_(False), m.c.version < TAKEN))
        if shown:
            logger.warning("recovered %d in-flight message(s) of dead worker processes", shown)
        return int(shown)

    def entries(self, queue_id: int, *, visible: bool, limit: int) -> list[bytes | str]:
        """The queue's first `limit` waiting (`visible`) or taken entries, oldest first."""
        m = self.messages
        first = (
            select(m.c.payload)
            .where(m.c.queue_id == queue_id, m.c.visible.is_(visible))
            .order_by(m.c.id)
            .limit(limit)
        )
        with self.engine.connect() as db:
            return list(db.execute(first).scalars())

    def reserved(self, queue_id: int) -> int:
        m = self.messages
        with self.engine.connect() as db:
            count = select(func.count()).where(m.c.queue_id == queue_id, m.c.visible.is_(False))
            return int(db.execute(count).scalar_one())

    def beat(self) -> None:
        ids = [row_id for row_id, _queue, _raw in list(self.held.values())]
        if ids:
            with self.engine.begin() as db:
                m = self.messages
                db.execute(update(m).where(m.c.id.in_(ids)).values(timestamp=_now()))

    def _run(self) -> None:
        recovered_at = time.monotonic()
        while True:  # a daemon thread: it ends with its process, or when no longer needed
            time.sleep(self.times.interval)
            if not self._still_needed():
                return
            try:
                self.beat()
                if time.monotonic() - recovered_at >= self.times.recover_every:
                    recovered_at = time.monotonic()
                    self.recover()
            except Exception as exc:  # database away: the next beat tries again
                logger.warning("reliable fetch heartbeat failed: %r", exc)


_fetches: dict[tuple[int, str], Fetch] = {}
_fetches_lock = threading.Lock()


class Channel(kombu_sql.Channel):  # type: ignore[misc]
    QoS = QoS
    Message = Message

    # Five stamps fit in one TTL: a process whose heartbeat thread waits a few seconds on a
    # busy SQLite file is not taken for dead.
    fetch_heartbeat_ttl = 10.0
    fetch_heartbeat_interval = 2.0
    unacked_restore_interval = 2.0

    from_transport_options = (
        *kombu_sql.Channel.from_transport_options,
        "fetch_heartbeat_ttl",
        "fetch_heartbeat_interval",
        "unacked_restore_interval",
    )

    def __init__(self, connection: Any, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        self._queue_ids: dict[str, int] = {}
        self._taking: Fetch | None = None  # the fetch this channel took from, if it did

    def _engine_from_config(self) -> Engine:
        # Kombu hands every transport option to create_engine(): keep the others out of it.
        options = self.connection.client.transport_options
        kept = {k: v for k, v in options.items() if k not in NOT_ENGINE_OPTIONS}
        self.connection.client.transport_options = kept
        try:
            return super()._engine_from_config()  # type: ignore[no-any-return]
        finally:
            self.connection.client.transport_options = options

    @property
    def fetch(self) -> Fetch:
        engine, _session = self._open()
        key = (os.getpid(), str(engine.url))
        with _fetches_lock:
            found = _fetches.get(key)
            if found is None:
                times = FetchTimes(
                    float(self.fetch_heartbeat_ttl),
                    float(self.fetch_heartbeat_interval),
                    float(self.unacked_restore_interval),
                )
                found = _fetches[key] = Fetch(engine, self.message_cls.__table__, times)
            return found

    def _queue_id(self, queue: str) -> int:
        if queue not in self._queue_ids:
            self._queue_ids[queue] = int(self._get_or_create(queue).id)
        return self._queue_ids[queue]

    # Kombu reads in a transaction it never ends, so each channel held a database connection
    # (and, on MariaDB, locks that block DDL) for as long as it lived: end them.

    def _get_or_create(self, queue: str) -> Any:
        try:
            return super()._get_or_create(queue)
        finally:
            self.session.commit()

    def _size(self, queue: str) -> int:
        try:
            return int(super()._size(queue))
        finally:
            self.session.commit()

    def close(self) -> None:
        super().close()
        if self._session is not None:
            self._session.close()
        if self._taking is not None:
            self._taking.left(self)

    def _get(self, queue: str) -> dict[str, Any]:
        if self._taking is None:
            self._taking = self.fetch
            self._taking.joined(self)
        payload = self._taking.take(self._queue_id(queue), queue)
        if payload is None:
            raise kombu_sql.Empty()
        return payload

    def taken_entry(self, tag: str) -> tuple[str, bytes]:
        _row, queue, raw = self.fetch.held.get(tag, (0, "?", b""))
        return queue, raw

    def reserved(self, queue: str) -> int:
        """Messages of `queue` taken by a worker and not yet acknowledged."""
        return self.fetch.reserved(self._queue_id(queue))

    def oldest(self, queue: str) -> bytes | str | None:
        """The raw entry of the queue's oldest visible message, None when there is none."""
        return next(iter(self.waiting(queue, 1)), None)

    def waiting(self, queue: str, limit: int) -> list[bytes | str]:
        """The first `limit` entries of `queue` in the order workers take them."""
        return self.fetch.entries(self._queue_id(queue), visible=True, limit=limit)

    def taken(self, queue: str, limit: int) -> list[bytes | str]:
        """Up to `limit` entries of `queue` taken by a worker and not yet acknowledged."""
        return self.fetch.entries(self._queue_id(queue), visible=False, limit=limit)


class Transport(kombu_sql.Transport):  # type: ignore[misc]
    """Kombu's SQLAlchemy transport with reliable fetch, polling the way a worker needs: the
    next job is taken the moment the worker can take one (an ack wakes it), the queues are
    looked at every `polling_interval` while they are empty, and after each wait control goes
    back to the consumer loop, so a stop is seen at once. (Kombu's sleeps a whole interval
    after every job, whatever it did.)"""

    Channel = Channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settled = threading.Event()  # set by every ack and reject

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.settled.clear()
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except kombu_sql.Empty:
                pass
            wait = float(self.polling_interval or 0.0)
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            if any(ch.qos.can_consume() for ch in self.channels if ch._consumers):
                time.sleep(wait)  # the queues are empty
            else:
                self.settled.wait(wait)  # this worker is full until one of its jobs ends
            if deadline is not None:
                raise TimeoutError()

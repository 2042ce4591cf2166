"""SQL cache store (table `lq_cache`), for setups without Redis.

Each operation is one short transaction. The counter upsert takes the row's write lock, and
the read that follows is in the same transaction, so concurrent increments never lose a count
on PostgreSQL, MySQL/MariaDB or SQLite (which locks the whole file for the transaction).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from laravel_queue.cache.base import CacheStore, Window
from laravel_queue.db.schema import lq_cache
from laravel_queue.db.upsert import insert_new_rows, upsert

c = lq_cache.c

PURGE_CHUNK = 1000  # keys deleted per statement: short transactions, few bound parameters


def _live(now: float) -> Any:
    return or_(c.expires_at.is_(None), c.expires_at > now)


class SqlStore(CacheStore):
    def __init__(self, engine: Engine, prefix: str = "lq:") -> None:
        super().__init__(prefix)
        self.engine = engine

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.time() + ttl

    def get(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.value, c.counter).where(c.key == self.key(name), _live(time.time()))
            ).first()
        if row is None:
            return None
        return row.value if row.value is not None else str(row.counter)

    def put(self, name: str, value: str, ttl: float | None = None) -> None:
        values = {"key": self.key(name), "value": value, "counter": 0}
        values["expires_at"] = self._expiry(ttl)
        with self.engine.begin() as conn:
            upsert(conn, lq_cache, values, {"value": value, "expires_at": values["expires_at"]})

    def put_many(self, values: list[tuple[str, str, bool]], ttl: float) -> None:
        """One transaction: the values to add (expired ones cleared first) as one statement,
        then the rest."""
        expires_at = self._expiry(ttl)
        rows = [
            (only_if_absent, {"key": self.key(name), "value": value, "counter": 0})
            for name, value, only_if_absent in values
        ]
        new = [{**row, "expires_at": expires_at} for absent_only, row in rows if absent_only]
        with self.engine.begin() as conn:
            if new:
                keys = [row["key"] for row in new]
                conn.execute(delete(lq_cache).where(c.key.in_(keys), ~_live(time.time())))
                insert_new_rows(conn, lq_cache, new)
            for absent_only, row in rows:
                if not absent_only:
                    update = {"value": row["value"], "expires_at": expires_at}
                    upsert(conn, lq_cache, {**row, "expires_at": expires_at}, update)

    def fields(self, name: str) -> dict[str, str]:
        wanted = self.key(f"{name}:")
        # A range of the primary key, which every database reads from its index (a LIKE
        # prefix needs a pattern index on PostgreSQL and SQLite); exact case checked here.
        after = wanted[:-1] + chr(ord(wanted[-1]) + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.key, c.value, c.counter).where(
                    c.key >= wanted, c.key < after, _live(time.time())
                )
            ).all()
        return {
            row.key[len(wanted) :]: row.value if row.value is not None else str(row.counter)
            for row in rows
            if row.key.startswith(wanted)
        }

    def add(self, name: str, value: str, ttl: float | None) -> bool:
        key = self.key(name)
        with self.engine.begin() as conn:
            conn.execute(delete(lq_cache).where(c.key == key, ~_live(time.time())))
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(lq_cache).values(
                        key=key, value=value, counter=0, expires_at=self._expiry(ttl)
                    )
                )
        except IntegrityError:
            return False
        return True

    def purge_expired(self, limit: int = 10_000) -> int:
        """Expired rows (job statuses, schedule claims, locks, counters) stay until deleted:
        the worker calls this every minute. Keys are read first and deleted by key, which
        MySQL accepts (it refuses a DELETE whose subquery reads the same table with LIMIT); a
        row given a new expiry meanwhile is left."""
        purged = 0
        while purged < limit:
            now = time.time()
            chunk = min(PURGE_CHUNK, limit - purged)
            with self.engine.begin() as conn:
                keys = conn.scalars(select(c.key).where(c.expires_at <= now).limit(chunk)).all()
                if keys:
                    conn.execute(delete(lq_cache).where(c.key.in_(keys), c.expires_at <= now))
            purged += len(keys)
            if len(keys) < chunk:
                return purged
        return purged

    def forget(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(lq_cache).where(c.key == self.key(name)))

    def forget_if(self, name: str, value: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(delete(lq_cache).where(c.key == self.key(name), c.value == value))
        return result.rowcount > 0

    def increment(self, name: str, amount: int = 1, ttl: float | None = None) -> int:
        key, now = self.key(name), time.time()
        expired = and_(c.expires_at.is_not(None), c.expires_at <= now)
        with self.engine.begin() as conn:
            # Reset an expired counter first, inside the same transaction.
            conn.execute(
                update(lq_cache)
                .where(c.key == key, expired)
                .values(counter=0, value=None, expires_at=self._expiry(ttl))
            )
            upsert(
                conn,
                lq_cache,
                {"key": key, "value": None, "counter": amount, "expires_at": self._expiry(ttl)},
                {"counter": c.counter + amount},
            )
            return int(conn.execute(select(c.counter).where(c.key == key)).scalar_one())

    def ttl(self, name: str) -> float | None:
        now = time.time()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.expires_at).where(c.key == self.key(name), _live(now))
            ).first()
        if row is None or row.expires_at is None:
            return None
        return max(0.0, float(row.expires_at) - now)

    def attempt_window(self, name: str, max_attempts: int, decay: float) -> Window:
        key, now = self.key(name), time.time()
        expired = and_(c.expires_at.is_not(None), c.expires_at <= now)
        with self.engine.begin() as conn:
            # Make sure the row exists and hold its lock (SQLite: the whole file) until the
            # decision is written, so two workers cannot both take the last slot.
            upsert(
                conn,
                lq_cache,
                {"key": key, "value": None, "counter": 0, "expires_at": now + decay},
                {"counter": c.counter},
            )
            conn.execute(
                update(lq_cache)
                .where(c.key == key, expired)
                .values(counter=0, value=None, expires_at=now + decay)
            )
            row = conn.execute(
                select(c.counter, c.expires_at).where(c.key == key).with_for_update()
            ).one()
            left = max(0.0, float(row.expires_at) - now) if row.expires_at is not None else 0.0
            if row.counter >= max_attempts:
                return Window(False, int(row.counter), left)
            conn.execute(update(lq_cache).where(c.key == key).values(counter=c.counter + 1))
            return Window(True, int(row.counter) + 1, left)

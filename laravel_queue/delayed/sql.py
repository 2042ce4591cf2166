"""Delayed jobs in SQL (table `lq_delayed_jobs`), for brokers without a Redis cache.

A claim is one UPDATE that only touches unclaimed (or expired-claim) rows, so when two
workers race for the same rows each row goes to exactly one of them, on every database.
"""

from __future__ import annotations

import json
import secrets

from sqlalchemy import Engine, delete, func, insert, or_, select, update

from laravel_queue.db.schema import lq_delayed_jobs
from laravel_queue.delayed.base import CLAIM_SECONDS, Claim, DelayedStore
from laravel_queue.messages.payload import JobMessage

c = lq_delayed_jobs.c


class SqlDelayedStore(DelayedStore):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def park(self, message: JobMessage, available_at: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(lq_delayed_jobs).values(
                    connection=message.connection,
                    queue=message.queue,
                    available_at=available_at,
                    message=json.dumps(message.to_dict()),
                )
            )

    def claim_due(self, connection: str, queue: str, now: float, limit: int = 100) -> Claim:
        token = secrets.token_hex(16)
        claimable = (
            c.connection == connection,
            c.queue == queue,
            c.available_at <= now,
            or_(c.claimed_until.is_(None), c.claimed_until <= now),
        )
        with self.engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(c.id).where(*claimable).order_by(c.available_at).limit(limit)
                ).scalars()
            )
            if not ids:
                return Claim(token=token, messages=[], handles=[])
            conn.execute(
                update(lq_delayed_jobs)
                .where(c.id.in_(ids), *claimable)
                .values(claim=token, claimed_until=now + CLAIM_SECONDS)
            )
            rows = conn.execute(
                select(c.id, c.message).where(c.claim == token).order_by(c.available_at)
            ).all()
        return Claim(
            token=token,
            messages=[JobMessage.from_dict(json.loads(row.message)) for row in rows],
            handles=[str(row.id) for row in rows],
        )

    def settle(self, claim: Claim) -> None:
        if claim.handles:
            with self.engine.begin() as conn:
                conn.execute(delete(lq_delayed_jobs).where(c.claim == claim.token))

    def due_size(self, connection: str, queue: str, now: float) -> int:
        query = select(func.count()).where(
            c.connection == connection, c.queue == queue, c.available_at <= now
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def size(self, connection: str, queue: str) -> int:
        query = select(func.count()).where(c.connection == connection, c.queue == queue)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def peek(self, connection: str, queue: str, limit: int) -> list[tuple[JobMessage, float]]:
        query = (
            select(c.message, c.available_at)
            .where(c.connection == connection, c.queue == queue)
            .order_by(c.available_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found = []
        for row in rows:
            try:
                found.append((JobMessage.from_dict(json.loads(row.message)), row.available_at))
            except (ValueError, KeyError, TypeError):
                continue  # not parked by us: the mover fails it when it is due
        return found

    def clear(self, connection: str, queue: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(lq_delayed_jobs).where(c.connection == connection, c.queue == queue)
            )
        return int(result.rowcount)

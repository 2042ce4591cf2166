"""Delayed jobs in Redis: a ZSET per queue scored by due time, plus a ZSET of claims.

One Lua script moves due members into the claim set (and expired claims back), so two
workers polling at the same moment never take the same job.
"""

from __future__ import annotations

import json
import secrets

import redis

from laravel_queue.delayed.base import CLAIM_SECONDS, Claim, DelayedStore
from laravel_queue.messages.payload import JobMessage

_CLAIM = """
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(stale) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZADD', KEYS[1], ARGV[1], member)
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  redis.call('ZADD', KEYS[2], ARGV[3], member)
end
return due
"""


class RedisDelayedStore(DelayedStore):
    def __init__(self, client: redis.Redis, prefix: str = "lq:") -> None:
        self.client = client
        self.prefix = prefix
        self._claim = client.register_script(_CLAIM)

    def _keys(self, connection: str, queue: str) -> list[str]:
        base = f"{self.prefix}delayed:{connection}:{queue}"
        return [base, f"{base}:claimed"]

    def park(self, message: JobMessage, available_at: float) -> None:
        lq = message.lq
        # pushed_at makes the member unique per publication of the same job.
        member = json.dumps({"m": message.to_dict(), "at": lq.pushed_at if lq else available_at})
        self.client.zadd(self._keys(message.connection, message.queue)[0], {member: available_at})

    def claim_due(self, connection: str, queue: str, now: float, limit: int = 100) -> Claim:
        keys = self._keys(connection, queue)
        members = self._claim(keys=keys, args=[now, limit, now + CLAIM_SECONDS])
        handles = [m.decode() if isinstance(m, bytes) else str(m) for m in members]
        messages = [JobMessage.from_dict(json.loads(h)["m"]) for h in handles]
        return Claim(
            token=f"{connection}\0{queue}\0{secrets.token_hex(4)}",
            messages=messages,
            handles=handles,
        )

    def settle(self, claim: Claim) -> None:
        if claim.handles:
            connection, queue, _ = claim.token.split("\0")
            self.client.zrem(self._keys(connection, queue)[1], *claim.handles)

    def due_size(self, connection: str, queue: str, now: float) -> int:
        delayed, claimed = self._keys(connection, queue)
        pipe = self.client.pipeline(transaction=False)
        pipe.zcount(delayed, "-inf", now)
        pipe.zcard(claimed)
        return sum(int(n) for n in pipe.execute())

    def size(self, connection: str, queue: str) -> int:
        pipe = self.client.pipeline(transaction=False)
        for key in self._keys(connection, queue):
            pipe.zcard(key)
        return sum(int(n) for n in pipe.execute())

    def peek(self, connection: str, queue: str, limit: int) -> list[tuple[JobMessage, float]]:
        found: list[tuple[JobMessage, float]] = []
        for key in self._keys(connection, queue):
            members: list[tuple[bytes, float]] = self.client.zrange(  # type: ignore[assignment]
                key, 0, limit - 1, withscores=True
            )
            for member, due in members:
                try:
                    found.append((JobMessage.from_dict(json.loads(member)["m"]), float(due)))
                except (ValueError, KeyError, TypeError):
                    continue  # not parked by us: the mover fails it when it is due
        return sorted(found, key=lambda entry: entry[1])[:limit]

    def clear(self, connection: str, queue: str) -> int:
        count = self.size(connection, queue)
        self.client.delete(*self._keys(connection, queue))
        return count

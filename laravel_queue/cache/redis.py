"""Redis cache store: every check-and-write is one Lua script, so one round trip and atomic."""

from __future__ import annotations

from typing import Any

import redis

from laravel_queue.cache.base import CacheStore, Window

# A cache that does not answer must fail the call (redis-py waits forever by default); the
# manager passes a shorter wait when its `dispatch_timeout` calls for one.
SOCKET_TIMEOUT_SECONDS = 2.0

# Create-or-add; the TTL is set only when the counter is created (fixed window).
_INCREMENT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return count
"""

_FORGET_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


# Check and hit in one round trip: no two workers can both take the last slot.
_ATTEMPT_WINDOW = """
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits >= tonumber(ARGV[1]) then
  return {0, hits, redis.call('PTTL', KEYS[1])}
end
hits = redis.call('INCR', KEYS[1])
if hits == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {1, hits, redis.call('PTTL', KEYS[1])}
"""

# Many values in one command (a pipeline of SETs costs the writing process ~3x the CPU):
# KEYS with their values from ARGV[3]; the first ARGV[2] of them only where absent.
_PUT_MANY = """
local absent_only = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  if i <= absent_only then
    redis.call('SET', key, ARGV[i + 2], 'PX', ARGV[1], 'NX')
  else
    redis.call('SET', key, ARGV[i + 2], 'PX', ARGV[1])
  end
end
return 0
"""


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))


class RedisStore(CacheStore):
    def __init__(
        self,
        url: str,
        prefix: str = "lq:",
        client: redis.Redis | None = None,
        socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
    ):
        """A cache that does not answer must fail the call, not hang the job or the dispatcher
        holding it (redis-py waits forever by default): each call waits `socket_timeout` at
        most. Options in the URL (`?socket_timeout=5`) win."""
        super().__init__(prefix)
        self.url = url
        self.client: redis.Redis = client or redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
        )
        self._increment = self.client.register_script(_INCREMENT)
        self._forget_if = self.client.register_script(_FORGET_IF)
        self._attempt_window = self.client.register_script(_ATTEMPT_WINDOW)
        self._put_many = self.client.register_script(_PUT_MANY)

    def get(self, name: str) -> str | None:
        value: Any = self.client.get(self.key(name))
        return None if value is None else str(value)

    def put(self, name: str, value: str, ttl: float | None = None) -> None:
        self.client.set(self.key(name), value, px=_ms(ttl))

    def add(self, name: str, value: str, ttl: float | None) -> bool:
        return bool(self.client.set(self.key(name), value, px=_ms(ttl), nx=True))

    def put_many(self, values: list[tuple[str, str, bool]], ttl: float) -> None:
        ordered = sorted(values, key=lambda entry: not entry[2])  # the absent-only first
        absent_only = sum(entry[2] for entry in values)
        prefix = self.prefix
        self._put_many(
            keys=[prefix + name for name, _, _ in ordered],
            args=[_ms(ttl) or 1, absent_only, *[value for _, value, _ in ordered]],
        )

    def put_field(self, name: str, field: str, value: str, ttl: float | None = None) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(self.key(name), field, value)
        expire = _ms(ttl)
        if expire is not None:
            pipe.pexpire(self.key(name), expire)
        pipe.execute()

    def forget_field(self, name: str, field: str) -> None:
        self.client.hdel(self.key(name), field)

    def put_fields(self, name: str, values: dict[str, str], ttl: float) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(self.key(name), mapping=values)  # type: ignore[arg-type]
        pipe.pexpire(self.key(name), _ms(ttl) or 1)
        pipe.execute()

    def increment_fields(self, name: str, amounts: dict[str, int]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for field, amount in amounts.items():
            pipe.hincrby(self.key(name), field, amount)
        pipe.execute()

    def fields_of(self, names: list[str]) -> list[dict[str, str]]:
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self.key(name))
        return list(pipe.execute())

    def fields(self, name: str) -> dict[str, str]:
        found: dict[str, str] = self.client.hgetall(self.key(name))  # type: ignore[assignment]
        return found

    def forget(self, name: str) -> None:
        self.client.delete(self.key(name))

    def forget_if(self, name: str, value: str) -> bool:
        return bool(self._forget_if(keys=[self.key(name)], args=[value]))

    def increment(self, name: str, amount: int = 1, ttl: float | None = None) -> int:
        return int(self._increment(keys=[self.key(name)], args=[amount, _ms(ttl) or 0]))

    def ttl(self, name: str) -> float | None:
        left = int(self.client.pttl(self.key(name)))
        return None if left < 0 else left / 1000

    def attempt_window(self, name: str, max_attempts: int, decay: float) -> Window:
        allowed, hits, left = self._attempt_window(
            keys=[self.key(name)], args=[max_attempts, _ms(decay) or 1]
        )
        return Window(bool(allowed), int(hits), max(0, int(left)) / 1000)

    def close(self) -> None:
        self.client.connection_pool.disconnect()

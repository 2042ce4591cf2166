"""In-process cache store: same semantics as Redis, for tests and the `sync` connection."""

from __future__ import annotations

import threading
import time

from laravel_queue.cache.base import CacheStore, Window


class MemoryStore(CacheStore):
    def __init__(self, prefix: str = "lq:") -> None:
        super().__init__(prefix)
        self._data: dict[str, tuple[str, float | None]] = {}
        self._mutex = threading.Lock()

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= time.time():
            del self._data[key]
            return None
        return value

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.time() + ttl

    def get(self, name: str) -> str | None:
        with self._mutex:
            return self._live(self.key(name))

    def put(self, name: str, value: str, ttl: float | None = None) -> None:
        with self._mutex:
            self._data[self.key(name)] = (value, self._expiry(ttl))

    def fields(self, name: str) -> dict[str, str]:
        wanted = self.key(f"{name}:")
        with self._mutex:
            found = {key: self._live(key) for key in list(self._data) if key.startswith(wanted)}
        return {key[len(wanted) :]: v for key, v in found.items() if v is not None}

    def add(self, name: str, value: str, ttl: float | None) -> bool:
        with self._mutex:
            key = self.key(name)
            if self._live(key) is not None:
                return False
            self._data[key] = (value, self._expiry(ttl))
            return True

    def forget(self, name: str) -> None:
        with self._mutex:
            self._data.pop(self.key(name), None)

    def forget_if(self, name: str, value: str) -> bool:
        with self._mutex:
            key = self.key(name)
            if self._live(key) != value:
                return False
            del self._data[key]
            return True

    def increment(self, name: str, amount: int = 1, ttl: float | None = None) -> int:
        with self._mutex:
            key = self.key(name)
            current = self._live(key)
            if current is None:
                self._data[key] = (str(amount), self._expiry(ttl))
                return amount
            count = int(current) + amount
            self._data[key] = (str(count), self._data[key][1])
            return count

    def ttl(self, name: str) -> float | None:
        with self._mutex:
            key = self.key(name)
            if self._live(key) is None:
                return None
            expires_at = self._data[key][1]
            return None if expires_at is None else max(0.0, expires_at - time.time())

    def attempt_window(self, name: str, max_attempts: int, decay: float) -> Window:
        with self._mutex:
            key = self.key(name)
            current = self._live(key)
            hits = int(current) if current is not None else 0
            if hits >= max_attempts and current is not None:
                expires_at = self._data[key][1]
                left = 0.0 if expires_at is None else max(0.0, expires_at - time.time())
                return Window(False, hits, left)
            if current is None:
                self._data[key] = ("1", self._expiry(decay))
                return Window(True, 1, decay)
            expires_at = self._data[key][1]
            self._data[key] = (str(hits + 1), expires_at)
            left = 0.0 if expires_at is None else max(0.0, expires_at - time.time())
            return Window(True, hits + 1, left)

"""The cache store: hot coordination state shared by every worker (DESIGN §2.4, §5).

Three backends give the same answers: Redis (Lua where a check and a write must be one step),
SQL (single statements inside short transactions) and memory (one process; tests and `sync`).
Everything here either expires or is owned, so a crashed worker never leaves state behind
forever (DESIGN §9.1).
"""

from __future__ import annotations

import logging
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType

logger = logging.getLogger("laravel_queue")


class CacheStore(ABC):
    """Keys, counters and owner-token locks with TTLs. Keys are namespaced by `prefix`."""

    def __init__(self, prefix: str = "lq:") -> None:
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @abstractmethod
    def get(self, name: str) -> str | None:
        """The value stored under `name`, or None when absent or expired."""

    @abstractmethod
    def put(self, name: str, value: str, ttl: float | None = None) -> None:
        """Store `value`; `ttl=None` keeps it until forgotten."""

    @abstractmethod
    def add(self, name: str, value: str, ttl: float | None) -> bool:
        """Store `value` only if `name` is absent (or expired); True if it was stored."""

    def put_field(self, name: str, field: str, value: str, ttl: float | None = None) -> None:
        """Store `value` as `field` of the hash `name`: what many workers write side by side
        (their heartbeats, the paused queues). With `ttl`, the field lives at least that long
        after this write. On Redis a hash (which expires whole, `ttl` after its last write),
        elsewhere a key `name:field` per field."""
        self.put(f"{name}:{field}", value, ttl)

    def forget_field(self, name: str, field: str) -> None:
        self.forget(f"{name}:{field}")

    def put_fields(self, name: str, values: dict[str, str], ttl: float) -> None:
        """`put_field` each of `values` in one round trip where the backend can."""
        self.put_many([(f"{name}:{field}", value, False) for field, value in values.items()], ttl)

    def increment_fields(self, name: str, amounts: dict[str, int]) -> None:
        """Add each amount to its field of the hash `name` (counters that never expire: what
        Prometheus reads as totals); one round trip where the backend can."""
        for field, amount in amounts.items():
            self.increment(f"{name}:{field}", amount)

    def fields_of(self, names: list[str]) -> list[dict[str, str]]:
        """`fields` of each hash in `names`, in order; one round trip where the backend can."""
        return [self.fields(name) for name in names]

    def put_many(self, values: list[tuple[str, str, bool]], ttl: float) -> None:
        """`put` (or, where the flag is True, `add`) each `(name, value, only_if_absent)`:
        one round trip where the backend can (one script on Redis)."""
        for name, value, only_if_absent in values:
            if only_if_absent:
                self.add(name, value, ttl)
            else:
                self.put(name, value, ttl)

    @abstractmethod
    def fields(self, name: str) -> dict[str, str]:
        """Every live field of the hash `name`, with its value. It costs the same however
        many other keys the store holds: a worker reads one on a timer, so it must not scan
        the store (a Redis `SCAN` over a million job statuses blocks a worker for seconds)."""

    @abstractmethod
    def forget(self, name: str) -> None:
        """Remove `name` whatever it holds."""

    @abstractmethod
    def forget_if(self, name: str, value: str) -> bool:
        """Remove `name` only while it still holds `value` (compare-and-delete)."""

    @abstractmethod
    def increment(self, name: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add `amount` atomically and return the new count.

        `ttl` starts when the counter is created (or re-created after expiring) and is not
        extended by later increments: a fixed window, like Laravel's cache `add` + `increment`.
        """

    @abstractmethod
    def ttl(self, name: str) -> float | None:
        """Seconds until `name` expires; None when it is absent or never expires."""

    @abstractmethod
    def attempt_window(self, name: str, max_attempts: int, decay: float) -> Window:
        """One atomic check-and-hit on a fixed-window counter (Laravel's tooManyAttempts +
        hit): count a hit unless `max_attempts` are already used in the current window,
        which starts at its first hit and lasts `decay` seconds."""

    def lock(self, name: str, ttl: float, owner: str | None = None) -> Lock:
        """An owner-token lock on `name` that expires after `ttl` seconds."""
        return Lock(self, name, ttl, owner)

    def purge_expired(self, limit: int = 10_000) -> int:
        """Delete up to `limit` entries whose time is up; how many went. Only a store that
        keeps them until then needs it: Redis and memory drop them themselves."""
        return 0

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; the store may be used again afterwards."""


@dataclass(frozen=True)
class Window:
    """The outcome of `attempt_window`: allowed or not, hits so far, seconds until reset."""

    allowed: bool
    hits: int
    available_in: float


class Lock:
    """A lock held by whoever knows its owner token (Laravel: Cache::lock, with an owner).

    Release is compare-and-delete, so a job whose lock already expired can never free a lock
    that another job took since (DESIGN §9.3).
    """

    def __init__(self, store: CacheStore, name: str, ttl: float, owner: str | None = None):
        if ttl <= 0:
            raise ValueError("every lock needs a positive ttl (DESIGN §9.1)")
        self.store = store
        self.name = name
        self.ttl = ttl
        self.owner = owner or secrets.token_hex(16)

    def acquire(self) -> bool:
        return self.store.add(self.name, self.owner, self.ttl)

    def release(self) -> bool:
        return self.store.forget_if(self.name, self.owner)

    def release_or_let_expire(self) -> bool:
        """Release; when the store cannot be reached, log it and leave the lock to its TTL.

        For locks given back after a job ran (overlap and unique locks): the job's outcome
        — done, released, failed and recorded — must not change because a lock could not be
        given back, and the TTL frees it anyway (DESIGN §9.1)."""
        try:
            return self.release()
        except Exception:
            logger.warning(
                "could not release lock %s; it expires within %ss",
                self.name,
                self.ttl,
                exc_info=True,
            )
            return False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

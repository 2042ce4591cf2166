"""Pause flags and the restart signal: one hash every worker reads on a timer."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from laravel_queue.cache.memory import MemoryStore
from laravel_queue.cache.redis import RedisStore
from laravel_queue.connections.pausing import Interruptions

from ..support import ServiceUrls


def test_a_snapshot_is_one_command_however_many_keys_the_store_holds(
    redis_urls: ServiceUrls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker reads the flags every half second: reading them by a key prefix scanned the
    whole store, which stalled the worker ~50 ms a poll once it held 100,000 job statuses."""
    store = RedisStore(redis_urls.cache)
    filler = redis.Redis.from_url(redis_urls.cache)
    for start in range(0, 20_000, 5_000):
        filler.mset({f"lq:status:{n}": "{}" for n in range(start, start + 5_000)})
    interruptions = Interruptions(store)
    interruptions.pause("redis", "emails")
    interruptions.request_restart()
    sent: list[str] = []
    execute = store.client.execute_command

    def observed(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return execute(*args, **options)

    monkeypatch.setattr(store.client, "execute_command", observed)
    snapshot = interruptions.snapshot()
    assert sent == ["HGETALL"]
    assert snapshot.is_paused("redis", "emails") and not snapshot.is_paused("redis", "default")
    assert snapshot.restart_requested_at is not None


def test_a_pause_with_a_ttl_ends_by_itself_and_resume_ends_any() -> None:
    interruptions = Interruptions(MemoryStore())
    interruptions.pause("redis", "briefly", ttl=0.05)
    interruptions.pause("redis", "until-resumed")
    assert interruptions.is_paused("redis", "briefly")
    time.sleep(0.1)
    assert not interruptions.is_paused("redis", "briefly")
    assert interruptions.is_paused("redis", "until-resumed")
    interruptions.resume("redis", "until-resumed")
    assert not interruptions.is_paused("redis", "until-resumed")

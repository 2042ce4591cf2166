"""A worker deletes the SQL cache store's expired rows on its timer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from laravel_queue import QueueManager
from laravel_queue.db.schema import lq_cache
from laravel_queue.worker import cache_purge

from ..support import wait_until, worker


def test_a_worker_deletes_expired_cache_rows(
    sqlite_manager: QueueManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_purge, "PURGE_EVERY_SECONDS", 0.2)  # a minute in production
    cache = sqlite_manager.cache
    cache.put_many([(f"old:{n}", "{}", False) for n in range(300)], ttl=0.01)
    cache.put("old:kept", "v", ttl=600)

    def old_rows() -> int:
        old = lq_cache.c.key.startswith(cache.key("old:"))
        with sqlite_manager.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(lq_cache).where(old)) or 0)

    assert old_rows() == 301
    with worker(sqlite_manager):
        wait_until(lambda: old_rows() == 1, timeout=20)
    assert cache.get("old:kept") == "v"

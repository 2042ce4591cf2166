"""The cache store gives the same answers on memory, Redis and SQL (SQLite, PostgreSQL, MySQL)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
import redis as redis_lib
from sqlalchemy import select

from laravel_queue.cache.base import CacheStore
from laravel_queue.cache.memory import MemoryStore
from laravel_queue.cache.redis import RedisStore
from laravel_queue.cache.sql import SqlStore
from laravel_queue.db.engine import make_engine
from laravel_queue.db.schema import lq_cache, metadata

from ..support import ServiceUrls


def _sql_store(url: str) -> SqlStore:
    engine = make_engine(url)
    metadata.create_all(engine)
    return SqlStore(engine, prefix="t:")


@pytest.fixture(params=["memory", "redis", "sqlite", "postgresql", "mysql"])
def store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[CacheStore]:
    kind = request.param
    if kind == "memory":
        yield MemoryStore(prefix="t:")
    elif kind == "redis":
        urls: ServiceUrls = request.getfixturevalue("redis_urls")
        yield RedisStore(urls.cache, prefix="t:")
    elif kind == "sqlite":
        yield _sql_store(f"sqlite:///{tmp_path}/cache.sqlite")
    else:
        url = request.getfixturevalue(f"{kind}_url" if kind == "mysql" else "postgres_url")
        sql = _sql_store(url)
        yield sql
        sql.engine.dispose()


def test_put_get_forget(store: CacheStore) -> None:
    assert store.get("k") is None
    store.put("k", "v")
    assert store.get("k") == "v"
    store.forget("k")
    assert store.get("k") is None


def test_values_expire(store: CacheStore) -> None:
    store.put("k", "v", ttl=0.2)
    assert store.get("k") == "v"
    time.sleep(0.3)
    assert store.get("k") is None


def test_add_only_stores_when_absent_or_expired(store: CacheStore) -> None:
    assert store.add("k", "a", ttl=0.2)
    assert not store.add("k", "b", ttl=10)
    assert store.get("k") == "a"
    time.sleep(0.3)
    assert store.add("k", "c", ttl=10)
    assert store.get("k") == "c"


def test_forget_if_only_removes_the_given_value(store: CacheStore) -> None:
    store.put("k", "mine")
    assert not store.forget_if("k", "theirs")
    assert store.get("k") == "mine"
    assert store.forget_if("k", "mine")
    assert store.get("k") is None


def test_increment_starts_a_fixed_window(store: CacheStore) -> None:
    assert store.increment("n", ttl=0.3) == 1
    assert store.increment("n", 2, ttl=10) == 3
    time.sleep(0.4)
    assert store.increment("n", ttl=10) == 1


def test_concurrent_increments_are_never_lost(store: CacheStore) -> None:
    def work() -> None:
        for _ in range(25):
            store.increment("race", ttl=60)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.increment("race", 0) == 100


def test_a_lock_is_released_only_by_its_owner(store: CacheStore) -> None:
    first = store.lock("job", ttl=10)
    assert first.acquire()
    second = store.lock("job", ttl=10)
    assert not second.acquire()
    assert not second.release()  # not the owner: the first lock survives
    assert not store.lock("job", ttl=10).acquire()
    assert first.release()
    assert second.acquire()


def test_an_expired_lock_can_be_taken_and_the_old_owner_cannot_free_it(
    store: CacheStore,
) -> None:
    old = store.lock("job", ttl=0.2)
    assert old.acquire()
    time.sleep(0.3)
    new = store.lock("job", ttl=10)
    assert new.acquire()
    assert not old.release()
    assert not store.lock("job", ttl=10).acquire()


def test_a_lock_needs_a_ttl(store: CacheStore) -> None:
    with pytest.raises(ValueError, match="positive ttl"):
        store.lock("job", ttl=0)


def test_redis_keys_carry_the_prefix(redis_urls: ServiceUrls) -> None:
    RedisStore(redis_urls.cache, prefix="custom:").put("k", "v")
    assert redis_lib.Redis.from_url(redis_urls.cache).get("custom:k") == b"v"


def test_ttl_reports_the_seconds_left(store: CacheStore) -> None:
    assert store.ttl("k") is None
    store.put("k", "v")
    assert store.ttl("k") is None  # never expires
    store.put("k", "v", ttl=30)
    left = store.ttl("k")
    assert left is not None and 28 < left <= 30


def test_attempt_window_allows_max_hits_then_blocks_until_it_resets(store: CacheStore) -> None:
    outcomes = [store.attempt_window("w", 2, 0.5) for _ in range(3)]
    assert [(o.allowed, o.hits) for o in outcomes] == [(True, 1), (True, 2), (False, 2)]
    assert 0 < outcomes[2].available_in <= 0.5
    time.sleep(0.6)
    again = store.attempt_window("w", 2, 0.5)
    assert (again.allowed, again.hits) == (True, 1)


def test_concurrent_attempts_never_exceed_the_limit(store: CacheStore) -> None:
    allowed: list[bool] = []

    def attempt() -> None:
        for _ in range(10):
            allowed.append(store.attempt_window("busy", 7, 30).allowed)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 7 and len(allowed) == 40


def test_a_lock_that_cannot_be_released_is_logged_and_left_to_expire(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = RedisStore("redis://127.0.0.1:1/0")
    lock = unreachable.lock("unique:tests.jobs.SyncsAccount:1", 60, owner="owner")
    with caplog.at_level(logging.WARNING, logger="laravel_queue"):
        assert lock.release_or_let_expire() is False  # no exception: the job's outcome stands
    assert "could not release lock unique:tests.jobs.SyncsAccount:1" in caplog.text
    assert "expires within 60" in caplog.text


def test_fields_of_a_hash_are_found_by_the_hash_name_literally(store: CacheStore) -> None:
    store.put_field("workers", "a@h", "1")
    store.put_field("workers", "b@h", "2", ttl=60)
    store.put_field("workers", "c@h", "3")
    store.forget_field("workers", "c@h")
    store.put("workersX", "not in workers")
    store.put_field("work_%*?", "x", "odd characters")
    store.put_field("WORKERS", "upper", "another hash")
    assert store.fields("workers") == {"a@h": "1", "b@h": "2"}
    assert store.fields("work_%*?") == {"x": "odd characters"}
    assert store.fields("nothing") == {}


def test_a_field_written_with_a_ttl_expires(store: CacheStore) -> None:
    store.put_field("workers", "gone", "3", ttl=0.05)
    time.sleep(0.1)
    assert store.fields("workers") == {}


def test_put_many_puts_or_adds_each_value_with_the_ttl(store: CacheStore) -> None:
    store.put("taken", "first")
    store.put("stale", "old", ttl=0.05)
    time.sleep(0.1)
    store.put_many(
        [
            ("taken", "second", True),
            ("stale", "new", True),
            ("fresh", "a", True),
            ("set", "b", False),
        ],
        ttl=60,
    )
    assert [store.get(n) for n in ("taken", "stale", "fresh", "set")] == ["first", "new", "a", "b"]
    assert 0 < (store.ttl("set") or 0) <= 60
    store.put_many([("set", "c", False)], ttl=0.05)
    time.sleep(0.1)
    assert store.get("set") is None


def test_put_fields_writes_many_fields_of_a_hash(store: CacheStore) -> None:
    store.put_fields("h", {"a": "1", "b": "2"}, ttl=60)
    store.put_fields("h", {"b": "3"}, ttl=60)
    assert store.fields("h") == {"a": "1", "b": "3"}
    assert store.fields_of(["h", "none"]) == [{"a": "1", "b": "3"}, {}]


def test_increment_fields_adds_to_counters_read_as_fields(store: CacheStore) -> None:
    store.increment_fields("totals", {"x": 2, "y": 5})
    store.increment_fields("totals", {"x": 3})
    assert {k: int(v) for k, v in store.fields("totals").items()} == {"x": 5, "y": 5}


@pytest.mark.parametrize("store", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_a_sql_store_purges_expired_rows_and_only_those(store: CacheStore) -> None:
    assert isinstance(store, SqlStore)
    store.put_many([(f"old:{n}", "v", False) for n in range(2500)], ttl=0.05)
    store.put("forever", "v")
    store.put("later", "v", ttl=60)
    time.sleep(0.1)
    assert store.purge_expired(limit=1500) == 1500  # at most `limit` at a time
    assert store.purge_expired() == 1000
    assert store.purge_expired() == 0
    with store.engine.connect() as conn:
        left = conn.scalars(select(lq_cache.c.key).where(lq_cache.c.key.startswith("t:"))).all()
    assert sorted(left) == ["t:forever", "t:later"]
    store.forget("forever")
    store.forget("later")


def test_redis_and_memory_expire_by_themselves(store: CacheStore) -> None:
    if isinstance(store, SqlStore):
        pytest.skip("a SQL store purges; see above")
    assert store.purge_expired() == 0

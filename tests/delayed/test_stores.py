"""The delayed set: jobs wait until due, and each due job is claimed by exactly one mover."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis as redis_lib

from laravel_queue.db.engine import make_engine
from laravel_queue.db.schema import metadata
from laravel_queue.delayed.base import DelayedStore
from laravel_queue.delayed.redis import RedisDelayedStore
from laravel_queue.delayed.sql import SqlDelayedStore
from laravel_queue.messages.payload import JobMessage

from ..support import ServiceUrls


def message(n: int) -> JobMessage:
    return JobMessage(task="t", id=f"id-{n}", kwargs={"n": n}, queue="q", connection="c")


@pytest.fixture(params=["redis", "sqlite", "postgresql", "mysql"])
def store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[DelayedStore]:
    if request.param == "redis":
        urls: ServiceUrls = request.getfixturevalue("redis_urls")
        yield RedisDelayedStore(redis_lib.Redis.from_url(urls.cache), prefix="t:")
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/delayed.sqlite"
    else:
        url = request.getfixturevalue(
            "postgres_url" if request.param == "postgresql" else "mysql_url"
        )
    engine = make_engine(url)
    metadata.create_all(engine)
    yield SqlDelayedStore(engine)
    engine.dispose()


def test_only_due_jobs_are_claimed(store: DelayedStore) -> None:
    now = time.time()
    store.park(message(1), now - 1)
    store.park(message(2), now + 7200)
    assert store.size("c", "q") == 2
    assert store.due_size("c", "q", now) == 1
    claim = store.claim_due("c", "q", now)
    assert [m.id for m in claim.messages] == ["id-1"]
    store.settle(claim)
    assert store.size("c", "q") == 1
    assert store.claim_due("c", "q", now).messages == []


def test_an_unsettled_claim_is_claimable_again_after_it_expires(store: DelayedStore) -> None:
    now = time.time()
    store.park(message(1), now - 1)
    assert len(store.claim_due("c", "q", now).messages) == 1
    assert store.claim_due("c", "q", now).messages == []  # claimed, not yet expired
    later = now + 120
    assert [m.id for m in store.claim_due("c", "q", later).messages] == ["id-1"]


def test_racing_movers_claim_each_job_exactly_once(store: DelayedStore) -> None:
    now = time.time()
    for n in range(200):
        store.park(message(n), now - 1)
    taken: list[str] = []
    lock = threading.Lock()

    def mover() -> None:
        while True:
            claim = store.claim_due("c", "q", now, limit=7)
            if not claim.messages:
                return
            with lock:
                taken.extend(m.id for m in claim.messages)
            store.settle(claim)

    threads = [threading.Thread(target=mover) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(f"id-{n}" for n in range(200))
    assert store.size("c", "q") == 0


def test_clear_drops_the_queue(store: DelayedStore) -> None:
    store.park(message(1), time.time() + 60)
    assert store.clear("c", "q") == 1
    assert store.size("c", "q") == 0

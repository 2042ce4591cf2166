"""Database down: failures go to the spool file and reach failed_jobs once it is back."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy.engine import make_url

from laravel_queue import QueueManager
from laravel_queue.db.bounded import store_unavailable
from laravel_queue.db.engine import make_engine
from laravel_queue.db.spool import Spool
from laravel_queue.failed.repository import FailedJobRepository
from laravel_queue.messages.payload import JobMessage

from .. import jobs
from ..cli.support import run_lq
from ..support import ServiceUrls, TcpProxy, wait_until, worker


def message(uuid: str) -> JobMessage:
    return JobMessage(task="t", id=uuid, kwargs={}, queue="default", connection="default")


def test_the_spool_keeps_records_until_all_are_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append({"n": 1})
    spool.append({"n": 2})
    written: list[dict[str, int]] = []

    def database_down(record: dict[str, int]) -> None:
        written.append(record)
        raise ConnectionError("still down")

    with pytest.raises(ConnectionError):
        spool.drain(database_down, store_unavailable)
    assert spool.pending()  # nothing dropped by a half-done drain
    assert spool.drain(written.append, store_unavailable) == 2
    assert written[-2:] == [{"n": 1}, {"n": 2}]
    assert not spool.pending()


def test_a_record_that_can_never_be_written_is_set_aside_and_the_rest_go_on(
    tmp_path: Path,
) -> None:
    """One bad line stopped every drain at itself and put the rest back, for good."""
    spool = Spool(tmp_path / "spool.jsonl")
    for n in (1, "poison", 3):
        spool.append({"n": n})
    written: list[object] = []

    def write(record: dict[str, object]) -> None:
        if not isinstance(record["n"], int):
            raise TypeError("n must be a number")
        written.append(record["n"])

    assert spool.drain(write, store_unavailable) == 2
    assert written == [1, 3] and not spool.pending()
    [aside] = spool.set_aside()
    assert aside.record == {"n": "poison"} and aside.reason == "TypeError: n must be a number"
    assert spool.restore_set_aside() == 1 and spool.set_aside() == []
    assert spool.pending()  # back in the spool, to be tried again


def test_appending_never_waits_for_a_drain_stuck_on_the_database(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append({"n": 1})
    database_hangs = threading.Event()
    drainer = threading.Thread(
        target=spool.drain, args=(lambda _: database_hangs.wait(), store_unavailable)
    )
    drainer.start()
    wait_until(lambda: not (tmp_path / "spool.jsonl").exists())  # taken by the drain
    started = time.monotonic()
    spool.append({"n": 2})
    assert time.monotonic() - started < 1
    database_hangs.set()
    drainer.join()
    assert spool.drain(lambda _: None, store_unavailable) == 1  # the one appended meanwhile


def test_a_drain_killed_half_way_is_taken_over(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / f"spool.jsonl.draining-{dead.pid}-abcd").write_text('{"n": 1}\n')
    assert spool.pending()
    written: list[dict[str, int]] = []
    assert spool.drain(written.append, store_unavailable) == 1
    assert written == [{"n": 1}] and not spool.pending()


def test_a_failure_is_spooled_while_sqlite_cannot_be_opened(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet"
    manager = QueueManager(
        database_url=f"sqlite:///{missing}/store.sqlite", failed_spool=tmp_path / "spool.jsonl"
    )
    manager.failed.log(message("a"), ValueError("declined"))
    [line] = (tmp_path / "spool.jsonl").read_text().splitlines()
    assert json.loads(line)["uuid"] == "a"
    missing.mkdir()
    assert [job.uuid for job in manager.failed.all()] == ["a"]  # drained on first use
    assert not manager.failed.spool.pending()


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(5432)
    proxy.start()
    yield proxy
    proxy.stop()


def test_failures_while_postgresql_is_unreachable_appear_when_it_is_back(
    postgres_url: str, redis_urls: ServiceUrls, proxy: TcpProxy, tmp_path: Path, trace: Path
) -> None:
    through_proxy = make_url(postgres_url).set(port=proxy.port).render_as_string(False)
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(
        app,
        database_url=through_proxy,
        cache_url=redis_urls.cache,
        failed_spool=tmp_path / "spool.jsonl",
    )
    manager.ensure_schema()
    direct = FailedJobRepository(make_engine(postgres_url))

    proxy.stop()  # the database goes away
    ids = [jobs.ManualFail.dispatch(str(trace), f"job{n}") for n in range(3)]
    with worker(manager):
        spool = manager.failed.spool.path
        wait_until(lambda: spool.exists() and len(spool.read_text().splitlines()) == 3)
        assert direct.count() == 0
        down = run_lq(manager, "failed")
        assert down.exit_code == 3 and "failures are spooled meanwhile" in down.output
        proxy.start()  # it is back: the worker's spool step writes the records
        wait_until(lambda: direct.count() == 3, timeout=30)
    assert sorted(job.uuid for job in direct.iterate()) == sorted(ids)
    assert not manager.failed.spool.pending()
    direct.engine.dispose()
    manager.engine.dispose()

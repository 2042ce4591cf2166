"""Chains on real `lq work` processes (prefork, 2 children): Redis with PostgreSQL, and the
embedded SQLite file as broker and store."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import Bus, QueueManager

from .. import jobs
from ..support import ServiceUrls, lines, lq_running, wait_until

pytestmark = pytest.mark.slow

CHAINS = 12
FAILING = 3


@pytest.fixture(params=["redis-postgresql", "sqlite"])
def worker_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'lq.sqlite'}"
        return {"LQ_TEST_BROKER": f"sqla+{database}", "LQ_TEST_DATABASE": database}
    redis_urls: ServiceUrls = request.getfixturevalue("redis_urls")
    return {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": request.getfixturevalue("postgres_url"),
    }


def test_chains_run_in_order_and_a_failing_one_calls_its_catch_once(
    worker_env: dict[str, str], trace: Path, tmp_path: Path
) -> None:
    caught = tmp_path / "caught.log"
    caught.touch()
    env = {**worker_env, jobs.CALLBACK_TRACE: str(caught), "LQ_HOME": str(tmp_path)}
    app = Celery("lq_tests", broker=env["LQ_TEST_BROKER"], set_as_current=False)
    manager = QueueManager(
        app, cache_url=env.get("LQ_TEST_CACHE"), database_url=env["LQ_TEST_DATABASE"]
    )
    t = str(trace)
    for c in range(CHAINS):
        Bus.chain(
            [jobs.Traced(t, f"{c}-1"), jobs.ReleasesOnce(t, f"{c}-2"), jobs.Traced(t, f"{c}-3")]
        ).dispatch()
    for c in range(FAILING):
        failing = [jobs.Traced(t, f"f{c}-1"), jobs.AlwaysFails(t, f"f{c}-2")]
        Bus.chain([*failing, jobs.Traced(t, f"f{c}-never")]).catch(
            jobs.note_chain_failure
        ).dispatch()
    expected = CHAINS * 4 + FAILING * 4  # 1 + 2 (released once) + 1; 1 + 2 tries + failed()
    with lq_running("--app", "tests.apps", "work", "--concurrency", "2", env=env):
        wait_until(lambda: len(lines(trace)) >= expected, timeout=120)
        wait_until(lambda: len(lines(caught)) >= FAILING, timeout=30)
    runs = [line.split()[0] for line in lines(trace)]
    for c in range(CHAINS):
        order = [name for name in runs if name.startswith(f"{c}-")]
        assert order == [f"{c}-1", f"{c}-2", f"{c}-2", f"{c}-3"], order
    assert not [name for name in runs if name.endswith("-never")]
    assert lines(caught) == ["catch ValueError: always fails"] * FAILING
    assert manager.failed.count() == FAILING

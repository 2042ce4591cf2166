"""Pause, resume, restart and the workers' heartbeats, on real `lq work` processes (Redis)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import QueueManager

from .. import jobs
from ..support import ServiceUrls, lines, lq, lq_running, wait_until


@pytest.fixture
def env(redis_urls: ServiceUrls, tmp_path: Path) -> dict[str, str]:
    return {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path / 'lq.sqlite'}",
        "LQ_HOME": str(tmp_path),
    }


@pytest.fixture
def manager(env: dict[str, str]) -> QueueManager:
    app = Celery("lq_tests", broker=env["LQ_TEST_BROKER"], set_as_current=False)
    return QueueManager(app, cache_url=env["LQ_TEST_CACHE"], database_url=env["LQ_TEST_DATABASE"])


def run_lq(env: dict[str, str], *args: str) -> str:
    process = lq("--app", "tests.apps", *args, env=env)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def ran(trace: Path) -> list[str]:
    return [line.split()[0] for line in lines(trace)]


def test_a_paused_queue_is_not_consumed_by_a_worker_started_later_and_is_after_resume(
    env: dict[str, str], manager: QueueManager, trace: Path
) -> None:
    run_lq(env, "queue:pause", "default")
    for n in range(3):
        jobs.Traced(str(trace), f"paused{n}").dispatch()
    args = ("--app", "tests.apps", "work", "--queue", "default,other", "--concurrency", "1")
    with lq_running(*args, env=env):
        # The instrument: the same worker runs a job of the queue that is not paused ...
        jobs.Traced(str(trace), "other").on_queue("other").dispatch()
        wait_until(lambda: "other" in ran(trace), timeout=30)
        time.sleep(1.5)  # three polls of the pause flag
        assert ran(trace) == ["other"]  # ... and none of the paused one
        assert manager.connection().pending_size("default") == 3
        run_lq(env, "queue:resume", "default")
        wait_until(lambda: len(ran(trace)) == 4, timeout=30)
    assert sorted(ran(trace)[1:]) == ["paused0", "paused1", "paused2"]


def test_pausing_a_running_worker_s_queue_lets_the_running_job_finish_and_takes_no_more(
    env: dict[str, str], manager: QueueManager, trace: Path
) -> None:
    with lq_running("--app", "tests.apps", "work", "--concurrency", "1", env=env):
        jobs.TakesAMoment(str(trace), "running", 1.0).dispatch()
        wait_until(lambda: manager.connection().pending_size("default") == 0, timeout=30)
        manager.connection().pause("default")
        for n in range(3):
            jobs.Traced(str(trace), f"later{n}").dispatch()
        wait_until(lambda: ran(trace) == ["running"], timeout=30)
        time.sleep(1.5)
        assert ran(trace) == ["running"]
        manager.connection().resume("default")
        wait_until(lambda: len(ran(trace)) == 4, timeout=30)


def test_a_paused_queue_with_a_ttl_resumes_by_itself(
    env: dict[str, str], manager: QueueManager
) -> None:
    connection = manager.connection()
    connection.pause("default", ttl=0.5)
    assert connection.is_paused("default")
    wait_until(lambda: not connection.is_paused("default"), timeout=5)


@pytest.mark.slow
def test_queue_restart_stops_running_workers_after_their_job_and_loses_none(
    env: dict[str, str], manager: QueueManager, trace: Path
) -> None:
    total = 30
    for n in range(total):
        jobs.TakesAMoment(str(trace), f"j{n}", 0.2).dispatch()
    args = ("--app", "tests.apps", "work", "--concurrency", "1")
    with lq_running(*args, env=env) as first, lq_running(*args, env=env) as second:
        wait_until(lambda: len(workers(env)) == 2, timeout=30)  # both running (a worker
        wait_until(lambda: len(lines(trace)) >= 4, timeout=30)  # started later is not asked)
        run_lq(env, "queue:restart")
        for worker in (first, second):
            assert worker.process.wait(timeout=20) == 0
        stopped_output = "".join(first.output) + "".join(second.output)
    assert "restart_signal" in stopped_output
    assert len(ran(trace)) < total  # they stopped before the queue was empty
    with lq_running(*args, env=env):  # the supervisor's restart
        wait_until(lambda: len(lines(trace)) >= total, timeout=60)
    assert sorted(ran(trace)) == sorted(f"j{n}" for n in range(total))  # each once


def workers(env: dict[str, str], *args: str) -> list[dict[str, object]]:
    return json.loads(run_lq(env, "workers", "--json", *args))  # type: ignore[no-any-return]


@pytest.mark.slow
def test_workers_lists_each_worker_and_workers_scale_changes_its_pool(
    env: dict[str, str],
) -> None:
    args = ("--app", "tests.apps", "work", "--concurrency", "1", "--queue", "default,other")
    with lq_running(*args, env=env):
        found = wait_until(lambda: workers(env), timeout=30)
        assert len(found) == 1
        me = found[0]
        assert me["queues"] == ["default", "other"] and me["pool"] == "prefork"
        assert me["concurrency"] == 1 and me["healthy"] is True
        run_lq(env, "workers:scale", "3")
        wait_until(lambda: workers(env)[0]["concurrency"] == 3, timeout=20, every=0.5)
        run_lq(env, "workers:scale", "2", "--worker", str(me["name"]))
        wait_until(lambda: workers(env)[0]["concurrency"] == 2, timeout=20, every=0.5)
    assert workers(env) == []  # a worker that stops cleanly takes its record with it


@pytest.mark.slow
def test_a_killed_worker_shows_as_unhealthy_and_workers_prune_forgets_it(
    env: dict[str, str],
) -> None:
    process = lq(
        "--app", "tests.apps", "work", "--concurrency", "1", env=env, start_new_session=True
    )
    try:
        wait_until(lambda: workers(env), timeout=30)
        assert workers(env, "--stale", "3")[0]["healthy"] is True
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        wait_until(lambda: workers(env, "--stale", "3")[0]["healthy"] is False, timeout=15)
        assert "unhealthy" in run_lq(env, "workers", "--stale", "3")
        assert "1 stale worker(s) forgotten" in run_lq(env, "workers:prune", "--stale", "3")
        assert workers(env) == []
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_looping_listener_that_returns_false_holds_the_worker(
    env: dict[str, str], manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    jobs.Traced(str(trace), "held").dispatch()
    with lq_running(*("--app", "tests.apps", "work"), env={**env, "LQ_TEST_HOLD_WHILE": str(hold)}):
        wait_until(lambda: workers(env), timeout=30)  # running, polling
        time.sleep(1.5)
        assert ran(trace) == []
        hold.unlink()
        wait_until(lambda: ran(trace) == ["held"], timeout=10)

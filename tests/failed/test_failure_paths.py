"""Every way a job can fail for good leaves exactly one replayable `failed_jobs` row.

Real `lq work` processes (prefork, so time limits and lost workers are real) on Redis, with
the store on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from laravel_queue import QueueManager
from laravel_queue.failed import NotRetryableError
from laravel_queue.failed.replay import replay_message

from .. import jobs
from ..support import ServiceUrls, lq_running, publish_raw, wait_until


def run_worker_until(
    manager: QueueManager, redis_urls: ServiceUrls, database_url: str, rows: int
) -> str:
    """Run `lq work` until `rows` failures are recorded (or a minute passed); its output."""
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database_url,
    }
    args = ("--app", "tests.apps", "work", "--sleep", "0.1", "--concurrency", "2")
    # On a timeout the caller's comparison says which rows are missing.
    with lq_running(*args, env=env) as worker, suppress(AssertionError):
        wait_until(lambda: manager.failed.count() >= rows, timeout=60, every=0.5)
    return "".join(worker.output)


def test_every_failure_path_leaves_exactly_one_replayable_row(
    redis_urls: ServiceUrls, database_url: str, trace: Path, tmp_path: Path
) -> None:
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=database_url, cache_url=redis_urls.cache)
    flag = tmp_path / "bug"
    flag.touch()
    t = str(trace)
    expected: dict[str | None, str | tuple[str, ...]] = {
        jobs.AlwaysFails.dispatch(t, "attempts"): "ValueError: always fails",
        jobs.MaxExceptions.dispatch(t, "max_exceptions"): "RuntimeError: counted",
        # Fails after an exception past the deadline, or before running if already past it.
        jobs.Deadline.dispatch(t, 1.0): ("RuntimeError: not yet", "retry_until passed"),
        jobs.ManualFail.dispatch(t, "manual"): "ManuallyFailedError: gave up",
        jobs.Sleeps.dispatch(t, "timeout"): "TimeoutExceededError",
        app.send_task(
            "tests.plain.fails_while_flagged", args=[t, str(flag)], queue="default"
        ).id: "RuntimeError: plain task bug",
        app.send_task("tests.nowhere.Missing", kwargs={"a": 1}, queue="default").id: (
            "UnregisteredJobError"
        ),
        app.send_task(
            "tests.jobs.Traced", kwargs={"trace": t}, queue="default", headers={"lq": "junk"}
        ).id: "JobDecodeError",
    }
    publish_raw(
        app,
        [[], {"trace": t}, {}],
        {"task": "tests.jobs.Traced", "id": "pickled"},
        serializer="pickle",
    )
    expected["pickled-0"] = "pickle is never accepted"
    expected = {k: (v,) if isinstance(v, str) else v for k, v in expected.items()}

    output = run_worker_until(manager, redis_urls, database_url, len(expected))
    rows = manager.failed.all()
    missing = {uuid: expected[uuid] for uuid in set(expected) - {row.uuid for row in rows}}
    assert Counter(row.uuid for row in rows) == Counter(expected.keys()), (missing, output)
    for row in rows:
        reasons = expected[row.uuid]
        assert any(reason in row.exception for reason in reasons), (row.uuid, row.exception)
        if row.uuid == "pickled-0":
            with pytest.raises(NotRetryableError):
                replay_message(row)
        else:
            replayed = replay_message(row)
            assert replayed.id == row.uuid and replayed.queue == "default"
            header = replayed.lq
            if header is not None:
                assert header.attempts == 0 and header.exceptions == 0


@pytest.mark.parametrize(
    ("task", "options", "reason"),
    [
        ("tests.plain.kills_its_worker", {}, "WorkerLostError"),
        ("tests.plain.over_time", {"time_limit": 1}, "TimeLimitExceeded"),
    ],
)
def test_a_plain_task_lost_or_over_its_hard_limit_is_recorded_by_the_main_process(
    redis_urls: ServiceUrls, database_url: str, task: str, options: dict[str, Any], reason: str
) -> None:
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=database_url, cache_url=redis_urls.cache)
    task_id = app.send_task(task, queue="default", **options).id
    output = run_worker_until(manager, redis_urls, database_url, 1)
    [row] = manager.failed.all()
    assert row.uuid == task_id and reason in row.exception, output
    assert row.queue == "default"  # known on every path, even with no request at hand
    assert replay_message(row).task == task

"""`lq work` as real worker processes on Redis: order, stop conditions, signals, crashes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import Queue, QueueManager

from .. import jobs
from ..support import ROOT, ServiceUrls, lines, lq, wait_until


@dataclass
class Setup:
    manager: QueueManager
    env: dict[str, str]


@pytest.fixture
def setup(redis_urls: ServiceUrls, tmp_path: Path) -> Iterator[Setup]:
    database = f"sqlite:///{tmp_path}/store.sqlite"
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database,
    }
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    app.conf.broker_transport_options = {"visibility_timeout": 30}
    yield Setup(QueueManager(app, database_url=database, cache_url=redis_urls.cache), env)


def work(setup: Setup, *args: str) -> subprocess.Popen[str]:
    return lq("--app", "tests.apps", "work", "--sleep", "0.1", *args, env=setup.env)


def finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def test_queues_are_consumed_in_strict_priority_order(setup: Setup, trace: Path) -> None:
    for n in range(3):
        jobs.Traced(str(trace), f"low{n}").on_queue("low").dispatch()
    for n in range(3):
        jobs.Traced(str(trace), f"high{n}").on_queue("high").dispatch()
    # One process: with more, the next job starts while one runs, as in any Celery pool.
    code, output = finish(
        work(setup, "--queue", "high,low", "--concurrency", "1", "--stop-when-empty")
    )
    assert code == 0, output
    assert [line.split()[0] for line in lines(trace)] == [
        "high0",
        "high1",
        "high2",
        "low0",
        "low1",
        "low2",
    ]


def test_a_prefork_child_starts_with_the_boot_s_objects_frozen(setup: Setup, trace: Path) -> None:
    jobs.NotesFrozenObjects(str(trace)).dispatch()
    code, output = finish(work(setup, "--concurrency", "2", "--once"))
    assert code == 0, output
    frozen = int(lines(trace)[0].removeprefix("frozen="))
    assert frozen > 10_000  # the modules, classes and settings loaded before the fork


def test_once_takes_exactly_one_job(setup: Setup, trace: Path) -> None:
    for n in range(3):
        jobs.Traced.dispatch(str(trace), f"j{n}")
    code, output = finish(work(setup, "--once"))
    assert code == 0, output
    assert [line.split()[0] for line in lines(trace)] == ["j0"]
    assert Queue.pending_size() == 2


def test_max_jobs_stops_after_that_many(setup: Setup, trace: Path) -> None:
    for n in range(5):
        jobs.Traced.dispatch(str(trace), f"j{n}")
    code, output = finish(work(setup, "--max-jobs", "3", "--concurrency", "2"))
    assert code == 0, output
    assert len(lines(trace)) == 3
    assert Queue.pending_size() == 2


def test_sigterm_finishes_the_running_job_and_exits_zero(setup: Setup, trace: Path) -> None:
    jobs.Sleepy.dispatch(str(trace), 2.0)
    process = work(setup)
    wait_until(lambda: "sleepy started" in lines(trace), timeout=30)
    process.send_signal(signal.SIGTERM)
    code, output = finish(process)
    assert code == 0, output
    assert lines(trace) == ["sleepy started", "sleepy finished"]
    assert Queue.size() == 0


def test_memory_limit_exits_with_code_12(setup: Setup, trace: Path) -> None:
    jobs.Traced.dispatch(str(trace))
    code, output = finish(work(setup, "--memory", "1"))
    assert code == 12, output


def test_a_job_that_kills_its_worker_fails_after_tries_instead_of_looping(
    setup: Setup, trace: Path
) -> None:
    job_id = jobs.KillsItsWorker.dispatch(str(trace), "killer")
    process = work(setup, "--concurrency", "1")
    try:
        wait_until(lambda: setup.manager.failed.all(), timeout=90)
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    assert lines(trace) == [
        f"killer attempt=1 id={job_id}",
        f"killer attempt=2 id={job_id}",
        "killer failed=MaxAttemptsExceededError fresh=True",
    ]
    [row] = setup.manager.failed.all()
    assert row.uuid == job_id
    assert "3 reservations, tries=2; the previous reservation never finished" in row.exception


def test_a_timeout_raises_in_the_job_and_fails_it_on_the_last_attempt(
    setup: Setup, trace: Path
) -> None:
    job_id = jobs.Sleeps.dispatch(str(trace), "slow")
    process = work(setup)
    try:
        wait_until(lambda: setup.manager.failed.all(), timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    assert lines(trace)[:2] == [f"slow attempt=1 id={job_id}", f"slow attempt=2 id={job_id}"]
    assert lines(trace)[2] == "slow failed=TimeoutExceededError fresh=True"
    assert "TimeoutExceededError" in setup.manager.failed.all()[0].exception


def test_a_timeout_ends_a_job_on_the_threads_pool_too(setup: Setup, trace: Path) -> None:
    """Celery enforces no time limit on threads: the job's thread is given the timeout."""
    job_id = jobs.BusyTooLong.dispatch(str(trace), "slow")
    jobs.Traced.dispatch(str(trace), "quick")
    process = work(setup, "--pool", "threads", "--concurrency", "2")
    try:
        wait_until(lambda: setup.manager.failed.all(), timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, output = finish(process)
    said = lines(trace)
    assert [line for line in said if line.startswith("slow")] == [
        f"slow attempt=1 id={job_id}",
        f"slow attempt=2 id={job_id}",
        "slow failed=TimeoutExceededError fresh=True",
    ]
    assert any(line.startswith("quick attempt=1") for line in said)
    assert "TimeoutExceededError" in setup.manager.failed.all()[0].exception
    assert "BusyTooLong has timed out after 1" in output, output[-2000:]


def test_each_thread_holds_the_job_it_runs_and_the_next_one(setup: Setup, trace: Path) -> None:
    """A thread that finishes starts its next job at once, without a round trip to the broker
    (throughput on 10 ms I/O jobs: 610 -> 690 jobs/s on 8 threads); a prefork process holds
    one job."""
    connection = setup.manager.connection()
    for _ in range(6):
        jobs.Spans(str(trace), 3).dispatch()
    process = work(setup, "--pool", "threads", "--concurrency", "2")
    try:
        wait_until(lambda: len(lines(trace)) == 2, timeout=30)  # two have started
        held = (connection.reserved_size(), connection.pending_size())
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    assert held == (4, 2)


def test_a_stock_celery_worker_runs_laravel_queue_jobs(setup: Setup, trace: Path) -> None:
    jobs.FailsUntil.dispatch(str(trace), 2, "stock")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.apps",
            "worker",
            "-P",
            "solo",
            "-Q",
            "default",
            "-l",
            "WARNING",
        ],
        env={**os.environ, **setup.env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: len(lines(trace)) == 2, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, output = finish(process)
    assert [line.split()[1] for line in lines(trace)] == ["attempt=1", "attempt=2"], output


def test_a_timeout_at_or_above_the_visibility_timeout_is_warned_about_on_kombus_fetch(
    setup: Setup, trace: Path
) -> None:
    kombu_fetch = Setup(setup.manager, {**setup.env, "LQ_TEST_RELIABLE_FETCH": "0"})
    code, output = finish(work(kombu_fetch, "--timeout", "40", "--stop-when-empty"))
    assert code == 0, output
    assert "is not below the broker's visibility_timeout (30s)" in output
    code, output = finish(work(setup, "--timeout", "40", "--stop-when-empty"))
    assert code == 0, output
    assert "visibility_timeout" not in output  # reliable fetch redelivers nothing early


def test_jobs_run_once_each_across_several_worker_processes(setup: Setup, trace: Path) -> None:
    """Immediate and delayed jobs: every worker moves due delayed jobs, each exactly once."""
    ids = Queue.bulk([jobs.Traced(str(trace), f"j{n}") for n in range(150)])
    ids += Queue.bulk([jobs.Traced(str(trace), f"d{n}").delay(1) for n in range(100)])
    workers = [work(setup, "--concurrency", "2") for _ in range(3)]
    try:
        wait_until(lambda: len(lines(trace)) >= 250, timeout=120)
        time.sleep(1)  # a duplicate would show up here
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
    results = [finish(process) for process in workers]
    assert [code for code, _ in results] == [0, 0, 0], results
    seen = [line.split()[2][3:] for line in lines(trace)]
    assert sorted(seen) == sorted(ids)  # every job ran, and none twice


def test_the_worker_defaults_apply_to_jobs_without_settings(setup: Setup, trace: Path) -> None:
    jobs.NoSettings.dispatch(str(trace), "plain")
    process = work(setup, "--tries", "3", "--backoff", "1")
    try:
        wait_until(lambda: setup.manager.failed.all(), timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    runs = [line for line in lines(trace) if "attempt=" in line]
    assert [line.split()[1] for line in runs] == ["attempt=1", "attempt=2", "attempt=3"]


def test_max_time_stops_the_worker(setup: Setup) -> None:
    started = time.monotonic()
    code, output = finish(work(setup, "--max-time", "2"))
    assert code == 0, output
    assert 2 <= time.monotonic() - started < 20


def test_fail_on_timeout_fails_at_the_first_timeout(setup: Setup, trace: Path) -> None:
    jobs.FailsOnTimeout.dispatch(str(trace), "strict")
    process = work(setup)
    try:
        wait_until(lambda: setup.manager.failed.all(), timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    assert [line.split()[1] for line in lines(trace)] == [
        "attempt=1",
        "failed=TimeoutExceededError",
    ]


def test_the_worker_timeout_applies_to_jobs_but_not_to_plain_celery_tasks(
    setup: Setup, trace: Path
) -> None:
    jobs.SleepsWithoutTimeout.dispatch(str(trace), "job")
    setup.manager.app.send_task("tests.plain.sleeps", args=[str(trace), 3], queue="default")
    process = work(setup, "--timeout", "1", "--concurrency", "2")
    try:
        wait_until(lambda: setup.manager.failed.all() and "plain slept" in lines(trace), 60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, output = finish(process)
    [row] = setup.manager.failed.all()
    assert "TimeoutExceededError" in row.exception, output


def test_the_pool_has_a_process_per_cpu_by_default_as_in_celery(setup: Setup) -> None:
    code, output = finish(work(setup, "--max-time", "1"))
    assert code == 0, output
    assert f"concurrency: {os.cpu_count()} (prefork)" in output, output


def test_two_workers_on_one_host_have_distinct_expanded_names(setup: Setup) -> None:
    first = work(setup, "--max-time", "2")
    second = work(setup, "--max-time", "2")
    outputs = [finish(process)[1] for process in (first, second)]
    names = {
        line.split()[-2]
        for output in outputs
        for line in output.splitlines()
        if line.endswith(" ready.")
    }
    assert len(names) == 2, outputs
    assert all(name.endswith(f"@{socket.gethostname()}") for name in names), names
    assert all("%h" not in output for output in outputs)

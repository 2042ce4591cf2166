"""Every job's status and progress (`Queue.status`, `self.progress`), on real workers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import Queue, QueueManager, events
from laravel_queue.status.record import JobStatus
from laravel_queue.status.store import StatusStore

from .. import jobs
from ..cli.support import run_lq
from ..support import ServiceUrls, lq_running, wait_until, worker


def statuses_of(
    job_id: str, until: str, timeout: float = 30.0, first: JobStatus | None = None
) -> list[JobStatus]:
    """Each status the job went through, in order, read every 20 ms until its state is
    `until`, after `first` (read before a worker started: a worker can take the job before
    the first read here)."""
    seen: list[JobStatus] = [first] if first is not None else []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Queue.status(job_id)
        if status is not None and (not seen or seen[-1].state != status.state):
            seen.append(status)
        if status is not None and status.state == until:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"{job_id} never reached {until}: {[s.state for s in seen]}")


def states_of(job_id: str, until: str, first: JobStatus | None = None) -> list[str]:
    return [status.state for status in statuses_of(job_id, until, first=first)]


FAILS_TWICE_STATES = [
    "pending",
    "processing",
    "released",
    "processing",
    "released",
    "processing",
    "succeeded",
]


@pytest.fixture
def redis_setup(redis_urls: ServiceUrls, tmp_path: Path) -> Iterator[dict[str, str]]:
    database = f"sqlite:///{tmp_path}/store.sqlite"
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    QueueManager(app, database_url=database, cache_url=redis_urls.cache)
    yield {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database,
    }


def test_a_job_that_fails_twice_then_succeeds_shows_each_state_in_order_on_lq_work(
    redis_setup: dict[str, str], trace: Path
) -> None:
    job_id = jobs.SlowlyFailsTwice(str(trace)).dispatch()
    assert job_id is not None
    pending = wait_until(lambda: Queue.status(job_id))  # written behind the dispatch
    with lq_running("--app", "tests.apps", "work", "--sleep", "0.1", env=redis_setup):
        seen = statuses_of(job_id, "succeeded", first=pending)
    assert [status.state for status in seen] == FAILS_TWICE_STATES
    assert [(s.attempts, s.exception) for s in seen if s.state == "released"] == [
        (1, "RuntimeError: attempt 1 failed"),
        (2, "RuntimeError: attempt 2 failed"),
    ]
    status = seen[-1]
    assert (status.attempts, status.name, status.exception) == (
        3,
        "tests.jobs.SlowlyFailsTwice",
        None,
    )
    assert status.started_at and status.finished_at and status.queued_at
    assert status.queued_at <= status.started_at <= status.finished_at


def test_the_embedded_default_tracks_the_same_states(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.SlowlyFailsTwice(str(trace)).dispatch()
    assert job_id is not None
    pending = wait_until(lambda: Queue.status(job_id))  # written behind the dispatch
    with worker(sqlite_manager):
        assert states_of(job_id, "succeeded", first=pending) == FAILS_TWICE_STATES


def test_rabbitmq_tracks_the_same_states(rabbit_manager: QueueManager, trace: Path) -> None:
    job_id = jobs.SlowlyFailsTwice(str(trace)).dispatch()
    assert job_id is not None
    pending = wait_until(lambda: Queue.status(job_id))  # written behind the dispatch
    with worker(rabbit_manager):
        assert states_of(job_id, "succeeded", first=pending) == FAILS_TWICE_STATES


def test_a_delayed_job_is_delayed_until_it_runs(redis_manager: QueueManager, trace: Path) -> None:
    job_id = jobs.Traced(str(trace)).delay(30).dispatch()
    assert job_id is not None
    status = wait_until(lambda: Queue.status(job_id))
    assert status.state == "delayed"
    assert status.available_at == pytest.approx(time.time() + 30, abs=2)


def test_a_final_failure_is_failed_with_its_exception(
    redis_manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.AlwaysFails(str(trace)).dispatch()
    assert job_id is not None
    with worker(redis_manager):
        status = wait_until(lambda: (s := Queue.status(job_id)) and s.finished and s)
    assert (status.state, status.attempts, status.exception) == (
        "failed",
        2,
        "ValueError: always fails",
    )
    assert run_lq(redis_manager, "failed:retry", "all").exit_code == 0
    requeued = Queue.status(job_id)  # at once: the worker is stopped
    assert requeued is not None and (requeued.state, requeued.exception) == ("pending", None)


def test_ten_thousand_progress_calls_write_about_four_times_a_second_and_end_at_the_last(
    redis_manager: QueueManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[str] = []
    write = StatusStore._write

    def counted(self: StatusStore, values: list[tuple[str, JobStatus, bool]]) -> None:
        writes.extend(key for key, _, _ in values)
        write(self, values)

    monkeypatch.setattr(StatusStore, "_write", counted)  # before the store is made
    seen: list[events.JobProgressed] = []
    Queue.listen(events.JobProgressed, seen.append)
    try:
        job_id = jobs.ReportsProgress(10_000, 2.0).dispatch()
        assert job_id is not None
        started = time.monotonic()
        with worker(redis_manager):
            wait_until(lambda: (s := Queue.status(job_id)) and s.finished)
        took = time.monotonic() - started
    finally:
        events.listeners.forget(events.JobProgressed)
    status = Queue.status(job_id)
    assert status is not None and status.state == "succeeded"
    assert status.progress is not None
    assert (status.progress.current, status.progress.total) == (10_000, 10_000)
    assert status.progress.percent == 100
    assert len(seen) == 10_000  # every call is an event; the store is written far less
    assert len(writes) <= took * 4 + 4, f"{len(writes)} writes in {took:.1f}s"


def test_statuses_expire_after_their_retention(
    redis_urls: ServiceUrls, lq_home: Path, trace: Path
) -> None:
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, cache_url=redis_urls.cache, status_ttl=1)
    job_id = jobs.Traced(str(trace)).dispatch()
    assert job_id is not None
    with worker(manager):
        wait_until(lambda: (s := Queue.status(job_id)) and s.finished)
    wait_until(lambda: Queue.status(job_id) is None, timeout=5)


def test_tracking_off_keeps_no_status(redis_urls: ServiceUrls, lq_home: Path, trace: Path) -> None:
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, cache_url=redis_urls.cache, status_ttl=0)
    job_id = jobs.Traced(str(trace)).dispatch()
    assert job_id is not None
    with worker(manager):
        wait_until(lambda: Path(trace).exists())
    assert manager.status is None
    assert Queue.status(job_id) is None


def test_an_unknown_or_malformed_id_has_no_status(redis_manager: QueueManager) -> None:
    assert Queue.status("4f1c9c0e-0000-4000-8000-000000000000") is None
    assert Queue.status("not-a-uuid") is None


def test_job_status_prints_the_status_and_its_json(
    redis_manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.Traced(str(trace)).dispatch()
    assert job_id is not None
    wait_until(lambda: Queue.status(job_id))
    shown = run_lq(redis_manager, "job:status", job_id)
    assert shown.exit_code == 0, shown.output
    assert "pending" in shown.output and "tests.jobs.Traced" in shown.output
    as_json = run_lq(redis_manager, "job:status", job_id, "--json")
    assert json.loads(as_json.output)["state"] == "pending"


@pytest.mark.parametrize(
    ("job_id", "says"),
    [("not-a-uuid", "is not a job id"), ("4f1c9c0e-0000-4000-8000-000000000000", "no status")],
)
def test_job_status_of_an_unknown_or_malformed_id_exits_1(
    redis_manager: QueueManager, job_id: str, says: str
) -> None:
    shown = run_lq(redis_manager, "job:status", job_id)
    assert shown.exit_code == 1
    assert says in shown.output

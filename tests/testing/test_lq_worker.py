"""The `lq_manager` and `lq_worker` fixtures of the pytest plugin drain a chain and a batch
for real, on the embedded SQLite default and on Redis (`@pytest.mark.lq_each_broker`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from laravel_queue import Bus, QueueManager
from laravel_queue.worker.in_process import LqWorker

from .. import jobs
from ..support import lines

pytestmark = pytest.mark.lq_each_broker


@pytest.fixture(autouse=True)
def clean_redis(request: pytest.FixtureRequest, lq_manager: QueueManager) -> None:
    if "[redis]" in request.node.name:
        request.getfixturevalue("redis_urls")  # requires Redis; flushes the DBs around the test


def test_lq_worker_drains_a_chain(
    lq_manager: QueueManager, lq_worker: LqWorker, trace: Path
) -> None:
    t = str(trace)
    Bus.chain([jobs.Traced(t, "a"), jobs.ReleasesOnce(t, "b"), jobs.Traced(t, "c")]).dispatch()
    lq_worker.drain(timeout=30)
    assert [line.split()[0] for line in lines(trace)] == ["a", "b", "b", "c"]


def test_lq_worker_drains_a_batch_and_its_callbacks_fire(
    lq_manager: QueueManager, lq_worker: LqWorker, trace: Path, callback_trace: Path
) -> None:
    t = str(trace)
    batch = (
        Bus.batch([jobs.Traced(t, "x"), [jobs.Traced(t, "y"), jobs.Traced(t, "z")]])
        .name("drained")
        .then(jobs.batch_then)
        .dispatch()
    )
    lq_worker.drain(timeout=30)
    assert sorted(line.split()[0] for line in lines(trace)) == ["x", "y", "z"]
    assert batch.fresh().pending_jobs == 0
    assert lines(callback_trace) == ["then drained pending=0 failed=0"]


@pytest.mark.lq_queues("mail")
def test_the_lq_queues_marker_names_the_queues(
    lq_manager: QueueManager, lq_worker: LqWorker, trace: Path
) -> None:
    jobs.Traced(str(trace), "mailed").on_queue("mail").dispatch()
    lq_worker.drain(timeout=30)
    assert lq_worker.queues == ["mail"] and "mailed" in trace.read_text()


def test_drain_gives_up_after_its_timeout(
    lq_manager: QueueManager, lq_worker: LqWorker, trace: Path
) -> None:
    jobs.TakesAMoment(str(trace), "slow", 3).dispatch()
    with pytest.raises(TimeoutError, match=r"still had work after 0\.5s"):
        lq_worker.drain(timeout=0.5)
    lq_worker.drain(timeout=30)

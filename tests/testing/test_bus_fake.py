"""`Bus.fake()`: dispatches, chains and batches recorded; each assertion passes and fails
saying what was dispatched."""

from __future__ import annotations

from pathlib import Path

import pytest

from laravel_queue import Bus, QueueManager
from laravel_queue.testing import BusFake

from .. import jobs


@pytest.fixture
def fake(sqlite_manager: QueueManager) -> BusFake:
    return Bus.fake()


def test_dispatches_are_recorded_and_nothing_is_sent(
    sqlite_manager: QueueManager, fake: BusFake, trace: Path
) -> None:
    job_id = jobs.Traced(str(trace), "a").dispatch()
    assert job_id is not None and sqlite_manager.connection().size("default") == 0
    fake.assert_dispatched(jobs.Traced)
    fake.assert_dispatched(jobs.Traced, lambda job: job.job_id == job_id)
    fake.assert_dispatched(jobs.Traced, 1)
    with pytest.raises(
        AssertionError, match="expected Releases to be dispatched; dispatched: Traced"
    ):
        fake.assert_dispatched(jobs.Releases)
    with pytest.raises(AssertionError, match=r"dispatched 2 time\(s\), it was dispatched 1"):
        fake.assert_dispatched_times(jobs.Traced, 2)


def test_not_dispatched_and_nothing_dispatched(fake: BusFake, trace: Path) -> None:
    fake.assert_nothing_dispatched()
    fake.assert_not_dispatched(jobs.Traced)
    jobs.Traced(str(trace)).dispatch()
    with pytest.raises(
        AssertionError, match=r"not to be dispatched; it was dispatched 1 time\(s\)"
    ):
        fake.assert_not_dispatched(jobs.Traced)
    with pytest.raises(AssertionError, match="expected nothing to be dispatched"):
        fake.assert_nothing_dispatched()


def test_only_named_classes_are_faked(sqlite_manager: QueueManager, trace: Path) -> None:
    with Bus.fake([jobs.Releases]) as fake:
        jobs.Releases(str(trace)).dispatch()
        jobs.Traced(str(trace)).dispatch()
    assert [type(job) for job in fake.dispatches] == [jobs.Releases]  # (a Traced itself)
    assert sqlite_manager.connection().size("default") == 1
    jobs.Releases(str(trace)).dispatch()  # restored
    assert sqlite_manager.connection().size("default") == 2


def test_assert_chained(fake: BusFake, trace: Path) -> None:
    t = str(trace)
    Bus.chain([jobs.Traced(t, "a"), jobs.Releases(t, "b")]).dispatch()
    fake.assert_chained([jobs.Traced, jobs.Releases])
    fake.assert_chained([jobs.Traced(t, "a"), jobs.Releases(t, "b")])
    with pytest.raises(
        AssertionError,
        match=r"the chain \[Releases, Traced\] to be dispatched; dispatched: \[Traced, Releases\]",
    ):
        fake.assert_chained([jobs.Releases, jobs.Traced])


def test_batches_are_recorded_with_their_jobs_and_not_stored(
    sqlite_manager: QueueManager, fake: BusFake, trace: Path
) -> None:
    fake.assert_nothing_batched()
    t = str(trace)
    batch = (
        Bus.batch([jobs.Traced(t, "a"), [jobs.Traced(t, "b"), jobs.Releases(t, "c")]])
        .name("import")
        .dispatch()
    )
    assert (batch.name, batch.total_jobs, batch.pending_jobs) == ("import", 3, 3)
    assert Bus.find_batch(batch.id) is None and sqlite_manager.connection().size("default") == 0
    fake.assert_batched(lambda pending: pending.batch_name == "import" and len(pending.jobs) == 3)
    fake.assert_batch_count(1)
    with pytest.raises(
        AssertionError, match=r"1 batch\(es\) were dispatched: import with 3 job\(s\)"
    ):
        fake.assert_batched(lambda pending: pending.allows_failures())
    with pytest.raises(AssertionError, match=r"expected 2 batch\(es\)"):
        fake.assert_batch_count(2)
    with pytest.raises(AssertionError, match="expected no batch; dispatched: import"):
        fake.assert_nothing_batched()


def test_the_bus_fake_fixture(
    sqlite_manager: QueueManager, trace: Path, request: pytest.FixtureRequest
) -> None:
    fake: BusFake = request.getfixturevalue("bus_fake")
    jobs.Traced(str(trace)).dispatch()
    fake.assert_dispatched(jobs.Traced)


def test_the_bus_facade_asserts_on_the_active_fake(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    with pytest.raises(AssertionError, match=r"needs Bus.fake\(\) first"):
        Bus.assert_nothing_dispatched()
    with Bus.fake():
        Bus.chain([jobs.Traced(str(trace)), jobs.Releases(str(trace))]).dispatch()
        Bus.assert_dispatched(jobs.Traced)
        Bus.assert_not_dispatched(jobs.NoSettings)
        Bus.assert_chained([jobs.Traced, jobs.Releases])
        Bus.assert_nothing_batched()
        Bus.batch([jobs.Traced(str(trace))]).dispatch()
        Bus.assert_batch_count(1)
        Bus.assert_batched(lambda pending: len(pending.jobs) == 1)
        with pytest.raises(AssertionError, match="expected nothing to be dispatched"):
            Bus.assert_nothing_dispatched()

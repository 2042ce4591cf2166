"""`Queue.fake()`: each assertion passes on what was pushed and fails saying what was."""

from __future__ import annotations

from pathlib import Path

import pytest

from laravel_queue import Queue, QueueManager
from laravel_queue.testing import QueueFake

from .. import jobs


@pytest.fixture
def fake(sqlite_manager: QueueManager) -> QueueFake:
    return Queue.fake()


def test_a_faked_push_is_recorded_and_not_sent(
    sqlite_manager: QueueManager, fake: QueueFake, trace: Path
) -> None:
    job_id = jobs.Traced(str(trace), "a").on_queue("mail").delay(30).dispatch()
    assert sqlite_manager.connection().size("mail") == 0
    [pushed] = fake.pushed_jobs()
    assert (pushed.queue, pushed.delay, pushed.job_id, pushed.job.job_id) == (
        "mail",
        30,
        job_id,
        job_id,
    )
    fake.restore()
    jobs.Traced(str(trace), "real").dispatch()
    assert sqlite_manager.connection().size("default") == 1 and len(fake.records) == 1


def test_as_a_context_manager_the_real_queue_comes_back(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    with Queue.fake() as fake:
        Queue.push(jobs.Traced(str(trace)))
        Queue.bulk([jobs.Traced(str(trace)), jobs.Traced(str(trace))])
    fake.assert_count(3)
    Queue.push(jobs.Traced(str(trace)))
    assert sqlite_manager.connection().size("default") == 1


def test_only_the_named_classes_are_faked_and_except_pushes_those_for_real(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    with Queue.fake([jobs.Releases]) as only:
        jobs.Releases(str(trace)).dispatch()
        jobs.Traced(str(trace)).dispatch()
    only.assert_count(1)
    with Queue.fake().except_([jobs.Releases]) as all_but:
        jobs.Releases(str(trace)).dispatch()
        jobs.Traced(str(trace)).dispatch()
    all_but.assert_pushed(jobs.Traced)
    all_but.assert_not_pushed(jobs.Releases)
    assert sqlite_manager.connection().size("default") == 2  # Traced, then Releases, for real


def test_assert_pushed_with_a_predicate_or_a_count(fake: QueueFake, trace: Path) -> None:
    jobs.Traced(str(trace), "a").dispatch()
    jobs.Traced(str(trace), "b").dispatch()
    fake.assert_pushed(jobs.Traced)
    fake.assert_pushed(jobs.Traced, lambda job: job.name == "b")
    fake.assert_pushed(jobs.Traced, 2)
    fake.assert_pushed_times(jobs.Traced, 2)
    assert [job.name for job in fake.pushed(jobs.Traced)] == ["a", "b"]
    with pytest.raises(
        AssertionError,
        match=r"expected Releases to be pushed; pushed: Traced \(default:default\), Traced",
    ):
        fake.assert_pushed(jobs.Releases)
    with pytest.raises(AssertionError, match="Traced matching the predicate"):
        fake.assert_pushed(jobs.Traced, lambda job: job.name == "c")
    with pytest.raises(AssertionError, match=r"pushed 3 time\(s\), it was pushed 2 time\(s\)"):
        fake.assert_pushed(jobs.Traced, 3)


def test_assert_pushed_on_a_queue(fake: QueueFake, trace: Path) -> None:
    jobs.Traced(str(trace)).on_queue("mail").dispatch()
    fake.assert_pushed_on("mail", jobs.Traced)
    with pytest.raises(AssertionError, match="on 'sms'; it was pushed on mail"):
        fake.assert_pushed_on("sms", jobs.Traced)


def test_assert_not_pushed_nothing_pushed_and_count(fake: QueueFake, trace: Path) -> None:
    fake.assert_nothing_pushed()
    fake.assert_count(0)
    fake.assert_not_pushed(jobs.Traced)
    jobs.Traced(str(trace)).dispatch()
    fake.assert_not_pushed(jobs.Traced, lambda job: job.name == "other")
    with pytest.raises(AssertionError, match=r"not to be pushed; it was pushed 1 time\(s\)"):
        fake.assert_not_pushed(jobs.Traced)
    with pytest.raises(AssertionError, match="expected nothing to be pushed; pushed: Traced"):
        fake.assert_nothing_pushed()
    with pytest.raises(AssertionError, match=r"expected 2 job\(s\) to be pushed, 1 were"):
        fake.assert_count(2)


def test_assert_pushed_with_and_without_a_chain(fake: QueueFake, trace: Path) -> None:
    t = str(trace)
    jobs.Traced(t, "first").chain([jobs.Releases(t, "second"), jobs.Traced(t, "third")]).dispatch()
    fake.assert_pushed_with_chain(jobs.Traced, [jobs.Releases, jobs.Traced])
    fake.assert_pushed_with_chain(
        jobs.Traced, [jobs.Releases(t, "second"), jobs.Traced(t, "third")]
    )  # instances compare by state
    with pytest.raises(
        AssertionError, match=r"with the chain \[Traced\]; its chains: \[Releases, Traced\]"
    ):
        fake.assert_pushed_with_chain(jobs.Traced, [jobs.Traced])
    with pytest.raises(AssertionError, match="the chain"):
        fake.assert_pushed_with_chain(
            jobs.Traced, [jobs.Releases(t, "other"), jobs.Traced(t, "third")]
        )
    with pytest.raises(AssertionError, match="pushed only with a chain"):
        fake.assert_pushed_without_chain(jobs.Traced)
    jobs.Traced(t, "alone").dispatch()
    fake.assert_pushed_without_chain(jobs.Traced)


def test_a_number_or_a_predicate_nothing_else(fake: QueueFake) -> None:
    with pytest.raises(TypeError, match="a predicate or a number of times"):
        fake.assert_pushed(jobs.Traced, "twice")  # type: ignore[arg-type]


def test_the_queue_fake_fixture_fakes_the_current_manager(
    sqlite_manager: QueueManager, trace: Path, request: pytest.FixtureRequest
) -> None:
    fake: QueueFake = request.getfixturevalue("queue_fake")
    jobs.Traced(str(trace)).dispatch()
    fake.assert_pushed(jobs.Traced)
    assert sqlite_manager.connection().size("default") == 0


def test_the_queue_facade_asserts_on_the_active_fake(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    with pytest.raises(AssertionError, match=r"needs Queue.fake\(\) first"):
        Queue.assert_nothing_pushed()
    with Queue.fake():
        jobs.Traced(str(trace)).on_queue("mail").dispatch()
        Queue.assert_pushed(jobs.Traced)
        Queue.assert_pushed_on("mail", jobs.Traced)
        Queue.assert_pushed_times(jobs.Traced, 1)
        Queue.assert_not_pushed(jobs.Releases)
        Queue.assert_count(1)
        Queue.assert_pushed_without_chain(jobs.Traced)
        with pytest.raises(AssertionError, match="expected nothing to be pushed"):
            Queue.assert_nothing_pushed()

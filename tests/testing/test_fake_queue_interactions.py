"""`job.with_fake_queue_interactions().handle()`: releases, failures and deletion recorded
and asserted, with messages saying what happened instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from laravel_queue import Job, QueueManager

from .. import jobs


class ReleasesFor(Job):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def handle(self) -> None:
        self.release(self.seconds)


class FailsWith(Job):
    def handle(self) -> None:
        self.fail(PermissionError("no access"))


class DeletesItself(Job):
    def handle(self) -> None:
        self.delete()


def test_a_release_is_recorded_with_its_delay(sqlite_manager: QueueManager) -> None:
    job = ReleasesFor(30).with_fake_queue_interactions()
    job.handle()
    job.assert_released()
    job.assert_released(delay=30)
    job.assert_not_failed()
    job.assert_not_deleted()
    with pytest.raises(AssertionError, match="released with a delay of 30s, not 10s"):
        job.assert_released(delay=10)
    with pytest.raises(AssertionError, match=r"was released \(delay 30s\)"):
        job.assert_not_released()


def test_a_failure_is_recorded_with_its_exception(sqlite_manager: QueueManager) -> None:
    job = FailsWith().with_fake_queue_interactions()
    job.handle()
    job.assert_failed()
    job.assert_failed_with(PermissionError)
    job.assert_failed_with(OSError)  # a subclass counts
    job.assert_not_released()
    with pytest.raises(
        AssertionError, match=r"not failed with ValueError \(failed with: PermissionError"
    ):
        job.assert_failed_with(ValueError)
    with pytest.raises(AssertionError, match="was failed with PermissionError"):
        job.assert_not_failed()


def test_a_deletion_is_recorded(sqlite_manager: QueueManager) -> None:
    job = DeletesItself().with_fake_queue_interactions()
    job.handle()
    job.assert_deleted()
    with pytest.raises(AssertionError, match="was deleted"):
        job.assert_not_deleted()
    untouched = ReleasesFor(0).with_fake_queue_interactions()
    with pytest.raises(AssertionError, match="was not deleted"):
        untouched.assert_deleted()
    with pytest.raises(AssertionError, match="was not released"):
        untouched.assert_released()
    with pytest.raises(AssertionError, match="was not failed"):
        untouched.assert_failed()


def test_the_job_sees_one_attempt_and_the_current_manager(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    job = jobs.Traced(str(trace), "seen").with_fake_queue_interactions()
    job.handle()
    assert "seen attempt=1" in trace.read_text() and job.manager is sqlite_manager


def test_assertions_without_the_fake_say_how_to_get_it(trace: Path) -> None:
    with pytest.raises(AssertionError, match=r"call job.with_fake_queue_interactions\(\) before"):
        jobs.Traced(str(trace)).assert_released()


def test_progress_is_recorded_by_the_fake_and_does_nothing_outside_a_worker() -> None:
    job = jobs.ReportsProgress(3, 0.0)
    job.handle()  # outside a worker: nothing to tell
    job.with_fake_queue_interactions().handle()
    fake = job.queue_job
    assert fake is not None and getattr(fake, "progress_reports", None) == [
        (1, 3, "rows"),
        (2, 3, "rows"),
        (3, 3, "rows"),
    ]

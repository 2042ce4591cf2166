"""What a job may ask of its queue while it runs (Laravel: InteractsWithQueue), and a
stand-in for it, so `handle()` can be tested without a queue (Laravel:
`$job->withFakeQueueInteractions()` and its FakeJob).

A running job reaches its reservation through `QueueInteractions`, named here so the job
base knows no class above it (the worker's reservation is `runtime.job_run.JobRun`).
`job.with_fake_queue_interactions()` attaches a `FakeQueueJob` instead; calling
`job.handle()` then records what the job asked of its queue — `release(delay)`,
`fail(exc)`, `delete()` — instead of doing it, and the job's `assert_*` methods check what
was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from laravel_queue.durations import Delay, to_seconds


class QueueInteractions(Protocol):
    """The reservation running a job, as the job sees it (Laravel: the queue `Job` behind
    `$this->job`)."""

    @property
    def attempts(self) -> int: ...

    @property
    def timeout(self) -> float: ...

    def release(self, delay: Delay = 0, *, count_attempt: bool = True) -> None: ...

    def fail(self, exc: BaseException | str | None = None) -> None: ...

    def delete(self) -> None: ...

    def progress(self, current: float, total: float | None = None, message: str = "") -> None: ...

    def cancelled(self) -> bool: ...


@dataclass
class FakeQueueJob:
    """What `handle()` asked of its queue: releases (their delays), failures, deletion."""

    attempts: int = 1
    timeout: float = 0.0
    releases: list[float] = field(default_factory=list)
    failures: list[BaseException | str | None] = field(default_factory=list)
    deleted: bool = False
    progress_reports: list[tuple[float, float | None, str]] = field(default_factory=list)
    was_cancelled: bool = False
    """What `cancelled()` answers: set it to test how `handle()` stops."""

    def release(self, delay: Delay = 0, *, count_attempt: bool = True) -> None:
        self.releases.append(to_seconds(delay))

    def fail(self, exc: BaseException | str | None = None) -> None:
        self.failures.append(exc)

    def delete(self) -> None:
        self.deleted = True

    def progress(self, current: float, total: float | None = None, message: str = "") -> None:
        self.progress_reports.append((current, total, message))

    def cancelled(self) -> bool:
        return self.was_cancelled


class FakeQueueAssertions:
    """The assertions of a job whose queue interactions are faked (Laravel: assertReleased,
    assertNotReleased, assertDeleted, assertNotDeleted, assertFailed, assertNotFailed,
    assertFailedWith)."""

    def _fake_queue_job(self) -> FakeQueueJob:
        run = getattr(self, "_lq_run", None)
        if not isinstance(run, FakeQueueJob):
            raise AssertionError(
                f"{type(self).__name__} has no fake queue interactions: call "
                "job.with_fake_queue_interactions() before job.handle()"
            )
        return run

    def assert_released(self, delay: Delay | None = None) -> None:
        """The job released itself (with `delay` seconds, when given)."""
        releases = self._fake_queue_job().releases
        if not releases:
            raise AssertionError(f"{type(self).__name__} was not released")
        if delay is not None and to_seconds(delay) not in releases:
            raise AssertionError(
                f"{type(self).__name__} was released with a delay of "
                f"{', '.join(f'{d:g}s' for d in releases)}, not {to_seconds(delay):g}s"
            )

    def assert_not_released(self) -> None:
        releases = self._fake_queue_job().releases
        if releases:
            delays = ", ".join(f"{d:g}s" for d in releases)
            raise AssertionError(f"{type(self).__name__} was released (delay {delays})")

    def assert_deleted(self) -> None:
        if not self._fake_queue_job().deleted:
            raise AssertionError(f"{type(self).__name__} was not deleted")

    def assert_not_deleted(self) -> None:
        if self._fake_queue_job().deleted:
            raise AssertionError(f"{type(self).__name__} was deleted")

    def assert_failed(self) -> None:
        if not self._fake_queue_job().failures:
            raise AssertionError(f"{type(self).__name__} was not failed")

    def assert_not_failed(self) -> None:
        failures = self._fake_queue_job().failures
        if failures:
            raise AssertionError(f"{type(self).__name__} was failed with {failures[0]!r}")

    def assert_failed_with(self, exc_type: type[BaseException]) -> None:
        """The job failed itself with an exception of `exc_type` (or a subclass)."""
        failures = self._fake_queue_job().failures
        if not any(isinstance(failure, exc_type) for failure in failures):
            given = ", ".join(repr(f) for f in failures) or "nothing"
            raise AssertionError(
                f"{type(self).__name__} was not failed with {exc_type.__name__} "
                f"(failed with: {given})"
            )

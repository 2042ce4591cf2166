"""Skip.when / Skip.unless: a skipped job ends as a success (Laravel's rule)."""

from __future__ import annotations

from pathlib import Path

from laravel_queue import QueueManager
from laravel_queue.middleware import Skip

from .. import jobs
from ..support import lines, wait_until, worker


def test_skip_settles_its_condition_when_built() -> None:
    calls: list[int] = []
    skip = Skip.when(lambda: bool(calls.append(1)) or True)
    assert skip.skip is True and calls == [1]
    assert Skip.unless(False).skip is True and Skip.unless(True).skip is False


def test_a_skipped_job_ends_as_a_success_and_others_run(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    flag.touch()
    skipped = jobs.Skippable.dispatch(str(trace), str(flag))  # skip when the flag exists
    ran = jobs.Skippable.dispatch(str(trace), str(flag), True)  # skip unless it exists
    with worker(redis_manager):
        wait_until(lambda: lines(trace))
        wait_until(lambda: redis_manager.connection().size() == 0)
    assert lines(trace) == [f"skippable attempt=1 id={ran}"]
    assert redis_manager.failed.count() == 0
    assert skipped not in "".join(lines(trace))

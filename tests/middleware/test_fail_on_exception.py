"""FailOnException: a matching exception fails the job at once; others are retried."""

from __future__ import annotations

from pathlib import Path

import pytest

from laravel_queue import QueueManager

from .. import jobs
from ..support import lines, wait_until, worker


@pytest.mark.parametrize("by_callable", [False, True])
def test_a_matching_exception_fails_at_once(
    redis_manager: QueueManager, trace: Path, by_callable: bool
) -> None:
    job_id = jobs.FailsFastOnDeclined.dispatch(str(trace), "declined", by_callable)
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1)
    assert lines(trace) == [
        f"declined attempt=1 id={job_id}",
        "declined failed=DeclinedError fresh=True",
    ]
    [row] = redis_manager.failed.all()
    assert "DeclinedError: card declined" in row.exception


def test_another_exception_follows_the_usual_tries(
    redis_manager: QueueManager, trace: Path
) -> None:
    job_id = jobs.FailsFastOnDeclined.dispatch(str(trace), "timeout")
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1, timeout=30)
    assert lines(trace) == [f"timeout attempt={n} id={job_id}" for n in (1, 2, 3)] + [
        "timeout failed=RuntimeError fresh=True"
    ]

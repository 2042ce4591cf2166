"""Mistakes a newcomer makes get a message that says what to do, before anything is queued."""

from __future__ import annotations

import pytest

from laravel_queue import Queue, QueueManager

from . import jobs


def test_pushing_a_class_or_a_name_says_to_build_the_job(sqlite_manager: QueueManager) -> None:
    with pytest.raises(TypeError, match=r"got the class Traced; pass Traced\(...\)"):
        Queue.push(jobs.Traced)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="build the job first"):
        Queue.push("tests.jobs.Traced")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got the class Traced"):
        Queue.bulk([jobs.Traced])  # type: ignore[list-item]
    assert Queue.size() == 0

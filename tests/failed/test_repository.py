"""The failed_jobs repository on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import time
from dataclasses import replace

from laravel_queue.failed.repository import FailedJobRepository
from laravel_queue.messages.payload import JobMessage
from laravel_queue.messages.records import FailureRecord


def record(uuid: str, queue: str = "default", age_hours: float = 0.0) -> FailureRecord:
    message = JobMessage(task="shop.Charge", id=uuid, kwargs={"n": 1}, queue=queue, connection="c")
    return replace(
        FailureRecord.of(message, ValueError(f"declined {uuid}")),
        failed_at=time.time() - age_hours * 3600,
    )


def test_a_second_failure_of_the_same_uuid_updates_its_row(
    repository: FailedJobRepository,
) -> None:
    repository.write(record("a"))
    repository.write(replace(record("a"), exception="ValueError: second"))
    [job] = list(repository.iterate())
    assert job.uuid == "a" and job.exception == "ValueError: second"
    assert job.message.kwargs == {"n": 1}


def test_iterate_filters_orders_and_reads_in_chunks(repository: FailedJobRepository) -> None:
    for n in range(7):
        repository.write(record(f"u{n}", queue="high" if n % 2 else "low"))
    assert [j.uuid for j in repository.iterate(chunk=2)] == [f"u{n}" for n in range(6, -1, -1)]
    assert [j.uuid for j in repository.iterate(oldest_first=True, chunk=3)][:2] == ["u0", "u1"]
    assert [j.uuid for j in repository.iterate(queue="high", chunk=2)] == ["u5", "u3", "u1"]
    assert [j.uuid for j in repository.iterate(limit=3, chunk=2)] == ["u6", "u5", "u4"]
    assert repository.count() == 7 and repository.count("low") == 4


def test_find_and_forget_take_the_id_or_the_uuid(repository: FailedJobRepository) -> None:
    repository.write(record("11111111-aaaa"))
    job = repository.find("11111111-aaaa")
    assert job is not None and repository.find(job.id) == job
    assert repository.forget(job.id) is True
    assert repository.forget("11111111-aaaa") is False


def test_flush_and_prune_by_age(repository: FailedJobRepository) -> None:
    for n in range(5):
        repository.write(record(f"old{n}", age_hours=48))
    repository.write(record("new"))
    assert repository.prune(hours=24, chunk=2) == 5  # three chunks
    assert [j.uuid for j in repository.iterate()] == ["new"]
    repository.write(record("older", age_hours=3))
    assert repository.flush(hours=2) == 1
    assert repository.flush() == 1
    assert repository.count() == 0


def test_forget_rows_keeps_a_row_that_failed_again_meanwhile(
    repository: FailedJobRepository,
) -> None:
    repository.write(record("again", age_hours=1))
    repository.write(record("done", age_hours=1))
    read = list(repository.iterate())
    repository.write(record("again"))  # the retried job failed again before the delete
    assert repository.forget_rows(read) == 1
    assert [j.uuid for j in repository.iterate()] == ["again"]

"""Per-job priority levels within one queue: critical, high, normal, low; first in, first out
within a level; on Redis (our reliable fetch) and RabbitMQ (x-max-priority); refused where
the broker cannot order them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from kombu import Connection

from laravel_queue import Job, Queue, QueueManager
from laravel_queue.cli.app import Context, cli
from laravel_queue.exceptions import ConfigurationError

from .. import jobs
from ..support import lines, wait_until, worker

LEVELS = ["low", "normal", "high", "critical"]


def dispatch_sixteen(trace: Path, queue: str) -> None:
    """Four of each level, interleaved, half one by one and half in one bulk push."""
    made = [
        jobs.Traced(str(trace), f"{LEVELS[n % 4]}-{n // 4}")
        .on_queue(queue)
        .on_priority(LEVELS[n % 4])
        for n in range(16)
    ]
    for job in made[:8]:
        job.dispatch()
    Queue.bulk(made[8:], queue)


def expected() -> list[str]:
    return [f"{level}-{n}" for level in reversed(LEVELS) for n in range(4)]


def ran(trace: Path) -> list[str]:
    return [line.split()[0] for line in lines(trace)]


def test_redis_runs_critical_high_normal_low_in_dispatch_order_within_each(
    redis_manager: QueueManager, trace: Path
) -> None:
    dispatch_sixteen(trace, "default")
    assert redis_manager.connection().pending_by_level("default") == {
        "critical": 4,
        "high": 4,
        "normal": 4,
        "low": 4,
    }
    with worker(redis_manager):
        wait_until(lambda: len(lines(trace)) == 16, timeout=60)
    assert ran(trace) == expected()


@pytest.fixture
def priority_queue(rabbit_manager: QueueManager, amqp_url: str) -> Iterator[str]:
    """A queue of the test's own, declared with x-max-priority (RabbitMQ fixes a queue's
    arguments when it is first declared), deleted afterwards."""
    rabbit_manager.app.conf.task_queue_max_priority = 3
    name = f"prio-{uuid.uuid4().hex[:8]}"
    yield name
    with Connection(amqp_url) as conn:
        conn.channel().queue_delete(name)


def test_rabbitmq_runs_critical_high_normal_low_in_dispatch_order_within_each(
    rabbit_manager: QueueManager, priority_queue: str, trace: Path
) -> None:
    dispatch_sixteen(trace, priority_queue)
    wait_until(lambda: rabbit_manager.connection().pending_size(priority_queue) == 16)
    with worker(rabbit_manager, (priority_queue,)):
        wait_until(lambda: len(lines(trace)) == 16, timeout=60)
    assert ran(trace) == expected()


def test_queue_size_shows_the_pending_jobs_of_each_level(
    redis_manager: QueueManager, trace: Path
) -> None:
    jobs.Traced(str(trace)).on_priority("critical").dispatch()
    jobs.Traced(str(trace)).dispatch()
    done = CliRunner().invoke(cli, ["queue:size"], obj=Context(manager=redis_manager))
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in done.output.splitlines()]
    # a row of its own for each level with jobs, under its queue's row
    assert ["", "critical", "", "1", "", "", ""] in cells, done.output
    assert ["", "normal", "", "1", "", "", ""] in cells, done.output
    json_done = CliRunner().invoke(
        cli, ["queue:size", "--json"], obj=Context(manager=redis_manager)
    )
    assert '"pending_by_priority": {"critical": 1, "high": 0, "normal": 1, "low": 0}' in (
        json_done.output
    )


def test_an_unknown_level_is_refused_when_declared() -> None:
    with pytest.raises(ConfigurationError, match="unknown priority 'urgent'; use one of critical"):

        class Urgent(Job):
            priority = "urgent"

    with pytest.raises(ConfigurationError, match=r"Traced\.on_priority\(\): unknown priority 5"):
        jobs.Traced("unused").on_priority(5)  # type: ignore[arg-type]


def test_brokers_that_cannot_order_jobs_refuse_a_level_at_dispatch(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    with pytest.raises(ConfigurationError, match="takes jobs in the order they came"):
        jobs.Traced(str(trace)).on_priority("high").dispatch()
    jobs.Traced(str(trace)).on_priority("normal").dispatch()  # normal is every broker's order
    assert Queue.size() == 1


def test_rabbitmq_without_x_max_priority_refuses_a_level(
    rabbit_manager: QueueManager, trace: Path
) -> None:
    with pytest.raises(ConfigurationError, match="task_queue_max_priority = 3"):
        jobs.Traced(str(trace)).on_priority("low").dispatch()

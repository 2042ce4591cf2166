"""`lq queue:monitor` and `lq queue:size` on Redis, RabbitMQ and the SQLite broker:
sizes, the age of the oldest pending job, and `QueueBusy` only at or over `--max`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from laravel_queue import Queue, QueueManager, events

from .. import jobs
from .support import run_lq


@pytest.fixture
def busy() -> Iterator[list[events.QueueBusy]]:
    fired: list[events.QueueBusy] = []
    Queue.listen(events.QueueBusy, fired.append)
    yield fired
    events.listeners.forget(events.QueueBusy, fired.append)


def test_queue_monitor_fires_queue_busy_only_for_queues_at_or_over_max(
    manager: QueueManager, busy: list[events.QueueBusy]
) -> None:
    for _ in range(3):
        jobs.NoSettings("x").on_queue("high").dispatch()
    jobs.NoSettings("y").on_queue("low").dispatch()
    jobs.NoSettings("z").on_queue("low").delay(60).dispatch()
    time.sleep(0.2)
    result = run_lq(manager, "queue:monitor", "high,low,default", "--max", "2", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["queue"]: row for row in json.loads(result.output)}
    assert (rows["high"]["size"], rows["high"]["pending"], rows["high"]["busy"]) == (3, 3, True)
    assert (rows["low"]["size"], rows["low"]["delayed"], rows["low"]["busy"]) == (2, 1, True)
    assert (rows["default"]["size"], rows["default"]["busy"]) == (0, False)
    assert [(event.queue, event.size) for event in busy] == [("high", 3), ("low", 2)]
    assert busy[0].connection == manager.connection().name
    if manager.connection().url.startswith("amqp"):
        assert rows["high"]["oldest_pending_age"] is None  # AMQP cannot look without taking
    else:
        assert 0.2 <= rows["high"]["oldest_pending_age"] < 30
    assert rows["default"]["oldest_pending_age"] is None


def test_queue_monitor_prints_a_table_with_a_busy_flag(
    sqlite_manager: QueueManager, busy: list[events.QueueBusy]
) -> None:
    jobs.NoSettings("x").dispatch()
    result = run_lq(sqlite_manager, "queue:monitor", "default", "--max", "5")
    assert result.exit_code == 0 and "default" in result.output and "ok" in result.output
    assert busy == []
    over = run_lq(sqlite_manager, "queue:monitor", "default", "--max", "1")
    assert over.exit_code == 0 and "BUSY" in over.output  # size 1 >= --max 1 (Laravel)
    named = run_lq(sqlite_manager, "queue:monitor", f"{sqlite_manager.connection().name}:default")
    assert "BUSY" not in named.output  # --max defaults to 1000
    assert [event.size for event in busy] == [1]


def test_queue_clear_asks_unless_forced_and_says_how_many_it_deleted(
    sqlite_manager: QueueManager,
) -> None:
    for _ in range(2):
        jobs.NoSettings("x").dispatch()
    jobs.NoSettings("later").delay(60).dispatch()
    refused = run_lq(sqlite_manager, "queue:clear", "default")  # no terminal: --force needed
    assert refused.exit_code == 2 and sqlite_manager.connection().size("default") == 3
    cleared = run_lq(sqlite_manager, "queue:clear", "default", "--force", "--json")
    assert json.loads(cleared.output)["cleared"] == 3
    assert sqlite_manager.connection().size("default") == 0

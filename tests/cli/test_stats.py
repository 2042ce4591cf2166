"""`lq stats`: the figures per class and queue, readable in 80 columns, and as JSON."""

from __future__ import annotations

import json

from laravel_queue.cli.stats import sparkline
from laravel_queue.manager import QueueManager
from laravel_queue.metrics.recorder import MetricsRecorder

from .support import run_lq


def _ran(manager: QueueManager) -> None:
    recorder = MetricsRecorder(manager.metrics_store)
    for _ in range(20):
        recorder.record("default", "mail", "shop.jobs.SendWelcomeEmail", "processed", 0.05, 1.5)
    recorder.record("default", "mail", "shop.jobs.SendWelcomeEmail", "failed", 0.5, 2.0)
    recorder.record("default", "reports", "shop.jobs.BuildMonthlyReport", "released", 3.0, 0.1)
    recorder.flush()


def test_stats_fit_an_80_column_terminal_with_one_row_per_class(
    sqlite_manager: QueueManager,
) -> None:
    _ran(sqlite_manager)
    result = run_lq(sqlite_manager, "stats", "--since", "15m")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "22 runs in the last 15 min: 20 processed, 1 failed, 1 released"
    assert all(len(line) <= 80 for line in lines)
    row = next(line for line in lines if "SendWelcomeEmail" in line)
    assert "5%" in row and "50ms" in row and "1.51s" in row  # 1 of 21 failed; wait p95


def test_stats_json_filters_by_queue_and_class(sqlite_manager: QueueManager) -> None:
    _ran(sqlite_manager)
    report = json.loads(run_lq(sqlite_manager, "stats", "--json", "--queue", "reports").output)
    assert [job["name"] for job in report["jobs"]] == ["shop.jobs.BuildMonthlyReport"]
    assert report["total"]["released"] == 1
    wanted = ("stats", "--json", "--class", "shop.jobs.SendWelcomeEmail")
    assert json.loads(run_lq(sqlite_manager, *wanted).output)["total"]["runs"] == 21


def test_a_duration_that_is_not_one_is_refused_by_name(sqlite_manager: QueueManager) -> None:
    result = run_lq(sqlite_manager, "stats", "--since", "an hour")
    assert result.exit_code == 2
    assert "--since" in result.output and "15m" in result.output


def test_monitored_tags_are_listed_and_forgotten(sqlite_manager: QueueManager) -> None:
    run_lq(sqlite_manager, "tags:monitor", "User:1", "billing")
    assert json.loads(run_lq(sqlite_manager, "tags:monitored", "--json").output) == [
        "User:1",
        "billing",
    ]
    run_lq(sqlite_manager, "tags:unmonitor", "billing")
    assert run_lq(sqlite_manager, "tags:monitored").output.split() == ["User:1"]


def test_a_sparkline_squeezes_the_window_into_its_width() -> None:
    assert sparkline((0,) * 60) == "▁" * 12
    assert sparkline((0,) * 55 + (10,) * 5) == "▁" * 11 + "█"
    assert len(sparkline(tuple(range(1440)))) <= 12

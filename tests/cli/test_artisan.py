"""Artisan habits: `queue:*` names, `--version`, `-h`, `--app` after the subcommand."""

from __future__ import annotations

from pathlib import Path

from laravel_queue import QueueManager
from laravel_queue.cli import app_option_first

from ..support import run_isolated
from .support import run_lq
from .test_failed import fail


def test_artisan_names_run_the_matching_commands(sqlite_manager: QueueManager) -> None:
    fail(sqlite_manager, "a")
    assert run_lq(sqlite_manager, "queue:failed", "--json").output == (
        run_lq(sqlite_manager, "failed", "--json").output
    )
    forgotten = run_lq(sqlite_manager, "queue:forget", "a")
    assert forgotten.exit_code == 0 and "deleted" in forgotten.output
    assert run_lq(sqlite_manager, "queue:work", "-h").output.startswith("Usage:")
    assert "queue:prune-failed" in run_lq(sqlite_manager, "--help").output


def test_version_and_short_help(sqlite_manager: QueueManager) -> None:
    assert run_lq(sqlite_manager, "--version").output.startswith("lq, version ")
    assert "Options" in run_lq(sqlite_manager, "-h").output


def test_app_may_come_after_the_subcommand() -> None:
    assert app_option_first(["failed", "--app", "shop", "--json"]) == [
        "--app",
        "shop",
        "failed",
        "--json",
    ]
    assert app_option_first(["work", "--app=shop"]) == ["--app=shop", "work"]
    assert app_option_first(["failed", "--", "--app"]) == ["failed", "--", "--app"]


def test_lq_reads_the_app_named_after_the_subcommand(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'store.sqlite'}"
    done = run_isolated(
        ["-m", "laravel_queue.cli", "failed", "--app", "tests.apps", "--json"],
        tmp_path,
        LQ_TEST_BROKER="memory://",
        LQ_TEST_DATABASE=database,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "store.sqlite").exists()  # the app's database, not the default file
    assert not (tmp_path / "laravel_queue.sqlite").exists()

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


def test_help_and_list_answer_as_in_artisan(sqlite_manager: QueueManager) -> None:
    listed = run_lq(sqlite_manager, "list")
    assert listed.exit_code == 0
    assert "failed:retry" in listed.output and "queue:prune-failed" in listed.output
    assert run_lq(sqlite_manager, "help").output == run_lq(sqlite_manager, "--help").output
    work = run_lq(sqlite_manager, "help", "work")
    assert work.exit_code == 0 and " work [OPTIONS] [CONNECTION]" in work.output  # as `lq work -h`
    assert "--stop-when-empty" in work.output
    assert run_lq(sqlite_manager, "help", "queue:retry").output.startswith("Usage:")
    assert run_lq(sqlite_manager, "help", "nope").exit_code == 2


def test_a_mistyped_command_gets_the_closest_names(sqlite_manager: QueueManager) -> None:
    typo = run_lq(sqlite_manager, "faild")
    assert typo.exit_code == 2
    assert "No such command 'faild'. Did you mean 'failed'" in typo.output
    unknown = run_lq(sqlite_manager, "zzz")
    assert unknown.exit_code == 2 and "Did you mean" not in unknown.output
    assert "lq list" in unknown.output


def test_celery_s_dash_a_names_the_app_anywhere(tmp_path: Path) -> None:
    assert app_option_first(["work", "-A", "shop"]) == ["-A", "shop", "work"]
    assert app_option_first(["work", "-Ashop"]) == ["-Ashop", "work"]
    database = f"sqlite:///{tmp_path / 'store.sqlite'}"
    for args in (["-A", "tests.apps", "failed"], ["failed", "-A", "tests.apps"]):
        done = run_isolated(
            ["-m", "laravel_queue.cli", *args, "--json"],
            tmp_path,
            LQ_TEST_BROKER="memory://",
            LQ_TEST_DATABASE=database,
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "store.sqlite").exists()

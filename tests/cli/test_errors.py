"""Errors a user causes end an `lq` command with one line and a meaningful exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import QueueManager
from laravel_queue.db.engine import make_engine
from laravel_queue.exceptions import ConfigurationError, QueueConnectionError
from laravel_queue.urls import normalize_url

from .. import jobs
from ..support import ROOT, run_isolated


def lq_command(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_isolated(["-m", "laravel_queue.cli", *args], tmp_path, **env)


def test_an_unknown_connection_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {"LQ_TEST_BROKER": "memory://", "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/s.db"}
    done = lq_command(tmp_path, "--app", "tests.apps", "queue:size", "nosuch:default", **env)
    assert done.returncode == 1, done.stderr
    assert "Error: no queue connection named 'nosuch'" in done.stderr
    assert "Traceback" not in done.stderr
    verbose = lq_command(
        tmp_path, "--app", "tests.apps", "queue:size", "nosuch:x", "--verbose", **env
    )
    assert "Traceback" in verbose.stderr


def test_a_broker_that_refuses_is_one_line_with_exit_code_3(tmp_path: Path) -> None:
    env = {
        "LQ_TEST_BROKER": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/s.db",
        "LQ_TEST_CACHE": "memory://",
    }
    done = lq_command(tmp_path, "--app", "tests.apps", "queue:size", **env)
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr


def test_a_broker_url_with_an_unknown_scheme_is_refused_at_once() -> None:
    with pytest.raises(ConfigurationError, match="Did you mean redis"):
        QueueManager(Celery("x", broker="redsi://:secret@localhost/0"), database_url="sqlite://")


def test_database_urls_people_write_get_the_installed_drivers() -> None:
    assert make_engine("postgres://u@h/db").url.drivername == "postgresql+psycopg"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("mysql://root@h/x") == "mysql+pymysql://root@h/x"
    assert normalize_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"


def test_a_bad_amqp_password_at_dispatch_is_a_queue_connection_error(amqp_url: str) -> None:
    bad = amqp_url.replace("guest:guest@", "guest:wrong@")
    QueueManager(Celery("x", broker=bad), database_url="sqlite://", cache_url="memory://")
    with pytest.raises(QueueConnectionError, match=r"guest:\*\*\*@.*ACCESS_REFUSED"):
        jobs.Traced.dispatch("/dev/null", "x")


def test_read_commands_with_nothing_configured_create_no_files(tmp_path: Path) -> None:
    for command in ("failed", "queue:size"):
        done = lq_command(tmp_path, command)
        assert done.returncode == 0, done.stderr
        assert f"no embedded database at {tmp_path / 'laravel_queue.sqlite'}" in done.stderr
    assert list(tmp_path.iterdir()) == []


CHANGING_COMMANDS = [
    ("queue:pause", "default"),
    ("queue:resume", "default"),
    ("queue:restart",),
    ("queue:clear", "default", "--force"),
    ("failed:retry", "all"),
    ("failed:forget", "1"),
    ("failed:flush", "--force"),
    ("failed:prune",),
    ("batches:retry", "b1"),
    ("batches:prune",),
    ("workers:prune",),
    ("workers:scale", "2"),
]


@pytest.mark.parametrize("command", CHANGING_COMMANDS, ids=lambda c: c[0])
def test_state_changing_commands_with_no_app_refuse_and_create_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """`lq queue:pause default` in a folder with no app said "Paused default:default" and
    exited 0, having paused a fresh SQLite file no worker reads."""
    done = lq_command(tmp_path, *command)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--app" in done.stderr and "LQ_APP" in done.stderr
    assert "Paused" not in done.stdout and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_confirming_command_without_a_terminal_says_that_force_is_needed(
    tmp_path: Path,
) -> None:
    """It printed `Delete all failed jobs? [y/N]: Aborted!` and exited 1."""
    env = {"LQ_TEST_BROKER": "memory://", "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/s.db"}
    for command in (("failed:flush",), ("queue:clear", "default")):
        done = lq_command(tmp_path, "--app", "tests.apps", *command, **env)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Aborted" not in done.stdout + done.stderr
        assert "standard input is not a terminal" in done.stderr
        assert "--force" in done.stderr
    forced = lq_command(tmp_path, "--app", "tests.apps", "failed:flush", "--force", **env)
    assert forced.returncode == 0, forced.stderr
    assert "Deleted 0 failed job(s)." in forced.stdout


def test_a_confirming_command_in_a_terminal_asks_and_takes_no_for_an_answer(
    tmp_path: Path,
) -> None:
    env = {"LQ_TEST_BROKER": "memory://", "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/s.db"}
    controller, terminal = os.openpty()
    os.write(controller, b"n\n")  # typed ahead: the terminal holds it until it is read
    try:
        asked = subprocess.run(
            [sys.executable, "-m", "laravel_queue.cli", "--app", "tests.apps", "failed:flush"],
            env={"PYTHONPATH": str(ROOT), "LQ_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", **env},
            cwd=ROOT,
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(controller)
        os.close(terminal)
    assert asked.returncode == 1, asked.stderr
    assert "Delete all failed jobs? [y/N]" in asked.stdout
    assert "Aborted!" in asked.stderr

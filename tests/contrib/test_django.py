"""The Django example project (examples/django_app): its own tests on Django's test database,
SQLite and PostgreSQL, each starting a real `lq work`; and its commands as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ..conftest import require
from ..support import ROOT

PROJECT = ROOT / "examples" / "django_app"


def manage(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LQ_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_example_s_tests_pass_on_django_s_test_database(database: str, tmp_path: Path) -> None:
    if database == "postgresql":
        require("PostgreSQL", 5432)
        env = {"SHOP_DATABASE": "postgresql", "SHOP_DB_NAME": f"lq_django_{uuid.uuid4().hex[:8]}"}
    else:
        env = {"SHOP_TEST_DB_NAME": str(tmp_path / "test-shop.sqlite3")}
    result = manage("test", "shop", "--noinput", home=tmp_path, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ran 5 tests" in result.stderr and "OK" in result.stderr, result.stderr


def test_a_podcast_saved_in_a_transaction_is_published_by_lq_work(tmp_path: Path) -> None:
    env = {"SHOP_DB_NAME": str(tmp_path / "shop.sqlite3")}
    assert manage("migrate", "--noinput", home=tmp_path, **env).returncode == 0
    saved = manage("publish", "Episode 1", home=tmp_path, **env)
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout.startswith("podcast 1 saved; job ") and "queued" in saved.stdout
    worked = subprocess.run(
        [
            sys.executable,
            "-m",
            "laravel_queue.cli",
            "--app",
            "shop.queue",
            "work",
            "--stop-when-empty",
            "--sleep",
            "0.1",
        ],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LQ_HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worked.returncode == 0, worked.stdout + worked.stderr
    assert "published 1 as 'Episode 1'" in worked.stdout + worked.stderr

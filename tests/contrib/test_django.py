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


def settings_read(tmp_path: Path, settings: str) -> subprocess.CompletedProcess[str]:
    """What `manager_from_settings()` makes of a settings module holding `settings`."""
    (tmp_path / "lq_settings.py").write_text(f"SECRET_KEY = 'x'\nINSTALLED_APPS = []\n{settings}")
    probe = (
        "from laravel_queue.contrib.django import manager_from_settings\n"
        "m = manager_from_settings()\n"
        "names = ','.join(sorted(m._connections))\n"
        "print(m.default_queue, m.prefix, m.app.conf.broker_url or '-', names)"
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": "lq_settings",
        "LQ_HOME": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_manager_reads_a_laravel_queue_dict_or_lq_settings(tmp_path: Path) -> None:
    block = settings_read(
        tmp_path,
        "LARAVEL_QUEUE = {'default_queue': 'shop', 'broker_url': 'redis://127.0.0.1:6379/5',"
        " 'connections': {'sync': 'sync'}}\nLQ_PREFIX = 'ignored:'",
    )
    assert block.stdout.split() == [
        "shop",
        "lq:",
        "redis://127.0.0.1:6379/5",
        "default,sync",
    ]
    prefixed = settings_read(tmp_path, "LQ_DEFAULT_QUEUE = 'shop'\nLQ_PREFIX = 'shop:'")
    queue, prefix, broker, names = prefixed.stdout.split()
    assert (queue, prefix, names) == ("shop", "shop:", "default"), prefixed.stderr
    assert broker.startswith("lqsql+sqlite://")  # nothing said: the embedded default


def test_an_unknown_setting_is_named(tmp_path: Path) -> None:
    wrong = settings_read(tmp_path, "LQ_DEFUALT_QUEUE = 'shop'")
    assert wrong.returncode == 1
    assert "LARAVEL_QUEUE / LQ_* settings:" in wrong.stderr and "defualt_queue" in wrong.stderr

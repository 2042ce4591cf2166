"""QueueManager: defaults, environment, named connections, and how the CLI finds it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kombu.transport.sqlalchemy import Channel as SqlChannel

from laravel_queue import Queue, QueueManager
from laravel_queue.cache.redis import RedisStore
from laravel_queue.cache.sql import SqlStore
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.manager import current_manager

from . import jobs
from .support import ROOT, ServiceUrls, lines, run_isolated, wait_until, worker


def test_the_default_is_one_sqlite_file_in_lq_home(lq_home: Path) -> None:
    manager = QueueManager()
    # sqla+ under reliable fetch's alias (docs/internals/reliable-fetch.md)
    assert manager.app.conf.broker_url == f"lqsql+sqlite:///{lq_home}/laravel_queue.sqlite"
    assert manager.database_url == f"sqlite:///{lq_home}/laravel_queue.sqlite"
    assert isinstance(manager.cache, SqlStore)
    assert current_manager() is manager


def test_from_env_reads_the_urls(
    redis_urls: ServiceUrls, lq_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LQ_BROKER_URL", redis_urls.broker)
    monkeypatch.setenv("LQ_CACHE_URL", redis_urls.cache)
    monkeypatch.setenv("LQ_DATABASE_URL", f"sqlite:///{lq_home}/env.sqlite")
    manager = QueueManager.from_env()
    assert manager.app.conf.broker_url == redis_urls.broker
    assert isinstance(manager.cache, RedisStore)
    assert manager.database_url.endswith("env.sqlite")


def test_a_redis_broker_is_also_the_default_cache(redis_urls: ServiceUrls, lq_home: Path) -> None:
    from celery import Celery

    manager = QueueManager(Celery("x", broker=redis_urls.broker, set_as_current=False))
    assert manager.cache_url == redis_urls.broker


def test_an_unknown_connection_name_says_what_exists(sqlite_manager: QueueManager) -> None:
    with pytest.raises(ConfigurationError, match=r"no queue connection named 'nope'.*default"):
        Queue.connection("nope")


def test_a_named_connection_queues_on_its_own_broker(
    redis_urls: ServiceUrls, lq_home: Path, trace: Path
) -> None:
    manager = QueueManager(cache_url=redis_urls.cache, connections={"fast": redis_urls.broker})
    job_id = jobs.Traced(str(trace), "named").on_connection("fast").dispatch()
    fast = manager.connection("fast")
    assert (fast.pending_size(), Queue.pending_size()) == (1, 0)
    named = QueueManager(fast.app, cache_url=redis_urls.cache)  # what `lq work fast` runs
    with worker(named):
        wait_until(lambda: lines(trace))
    assert lines(trace) == [f"named attempt=1 id={job_id}"]


def test_lq_app_finds_the_manager_by_module_and_attribute(redis_urls: ServiceUrls) -> None:
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": "sqlite://",
        "PYTHONPATH": str(ROOT),
    }
    for app in ("tests.apps", "tests.apps:manager", "tests.apps:app"):
        result = subprocess.run(
            [sys.executable, "-m", "laravel_queue.cli", "--app", app, "queue:size", "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert '"connection": "default"' in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "laravel_queue.cli", "--app", "tests.apps:nothing", "queue:size"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "neither a QueueManager nor a Celery app" in result.stderr


def python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_isolated(["-c", code], tmp_path, **env)


def test_lq_app_is_honoured_on_first_use(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'app.sqlite'}"
    done = python(
        "from laravel_queue import Queue; print(Queue.connection().manager.database_url)",
        tmp_path,
        LQ_APP="tests.apps",
        LQ_TEST_BROKER="memory://",
        LQ_TEST_DATABASE=database,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == database
    assert "embedded SQLite default" not in done.stderr


def test_falling_back_to_the_embedded_default_is_said_once(tmp_path: Path) -> None:
    done = python(
        "from laravel_queue import Queue; Queue.size(); Queue.size()",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("using the embedded SQLite default at ") == 1
    assert str(tmp_path / "laravel_queue.sqlite") in done.stderr


def test_counting_the_sql_broker_leaves_no_database_connection_checked_out(
    sqlite_manager: QueueManager, lq_home: Path
) -> None:
    """Kombu's SQL transport counts in a transaction it never ends: unended, every pooled
    channel kept a connection, and a worker checking `--stop-when-empty` ran out of them."""
    for _ in range(40):
        Queue.pending_size()
    ours = [engine for engine, _ in SqlChannel._engines.values() if str(lq_home) in str(engine.url)]
    assert len(ours) == 1
    assert ours[0].pool.checkedout() == 0


# An app module with jobs and no QueueManager: the zero-setup case a newcomer starts from.
NOTE_APP = """
import os
from laravel_queue import Job


class Note(Job):
    def __init__(self, text):
        self.text = text

    def handle(self):
        with open(os.environ["NOTE_TRACE"], "a") as trace:
            trace.write(self.text + "\\n")


class Broken(Job):
    def handle(self):
        raise RuntimeError("broken on purpose")
"""


def in_folder(folder: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` run from `folder`, with no LQ_HOME: where the store lands is the product's
    choice, not the test's."""
    return subprocess.run(
        [sys.executable, *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.fixture
def note_app(tmp_path: Path) -> Path:
    """`notes.py` in a project folder of its own, and an unrelated folder to run from."""
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "notes.py").write_text(NOTE_APP)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


def test_lq_app_naming_a_module_without_a_manager_dispatches_to_the_embedded_default(
    note_app: Path,
) -> None:
    """It recursed until Python gave up: current_manager() imported the module, found no
    manager, and asked current_manager() again."""
    project = note_app / "project"
    done = in_folder(
        project, ["-c", "import notes; print(notes.Note.dispatch('hi'))"], LQ_APP="notes"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RecursionError" not in done.stderr
    assert done.stderr.count("using the embedded SQLite default at ") == 1
    assert str(project / "laravel_queue.sqlite") in done.stderr
    # LQ_APP is set: the message names the module, not "set LQ_APP"
    assert "notes created no QueueManager" in done.stderr and "set LQ_APP" not in done.stderr


def test_lq_work_with_lq_app_naming_a_module_without_a_manager_runs_its_jobs(
    note_app: Path,
) -> None:
    project, elsewhere = note_app / "project", note_app / "elsewhere"
    trace = note_app / "trace.txt"
    env = {"LQ_APP": "notes", "PYTHONPATH": str(project), "NOTE_TRACE": str(trace)}
    queued = in_folder(elsewhere, ["-c", "import notes; notes.Note.dispatch('ran')"], **env)
    assert queued.returncode == 0, queued.stderr[-3000:]
    worked = in_folder(elsewhere, ["-m", "laravel_queue", "work", "--stop-when-empty"], **env)
    assert worked.returncode == 0, worked.stdout[-3000:] + worked.stderr[-3000:]
    assert lines(trace) == ["ran"]
    assert not list(elsewhere.iterdir()), "nothing is written where the commands were run"


def test_the_default_store_is_the_same_from_any_working_directory(note_app: Path) -> None:
    """A worker started in one folder recorded failures that `lq failed` run from another did
    not see: the embedded file was relative to the working directory. It now lives in the app
    module's project folder."""
    project, elsewhere = note_app / "project", note_app / "elsewhere"
    env = {"PYTHONPATH": str(project), "NOTE_TRACE": str(note_app / "trace.txt")}
    lq = ["-m", "laravel_queue", "--app", "notes"]
    queued = in_folder(
        elsewhere, ["-c", "import notes; notes.Broken.dispatch()"], LQ_APP="notes", **env
    )
    assert queued.returncode == 0, queued.stderr[-3000:]
    worked = in_folder(project, [*lq, "work", "--stop-when-empty"], **env)
    assert worked.returncode == 0, worked.stdout[-3000:] + worked.stderr[-3000:]
    for folder in (project, elsewhere, note_app):
        listed = in_folder(folder, [*lq, "failed", "--json"], **env)
        assert listed.returncode == 0, listed.stderr[-3000:]
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert [row["job"] for row in rows] == ["notes.Broken"], folder
    assert (project / "laravel_queue.sqlite").exists()

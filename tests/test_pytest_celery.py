"""laravel_queue.pytest_celery: lq work in pytest-celery's Docker setups.

No Docker engine runs on the CI machines, so the worker's parts are proven here without one
(the app module and command the container gets, run by a local `lq work`; the image's build
context), and a pytest run that uses the fixtures is checked to skip with the reason, or,
where an engine answers, to pass with the job run in Docker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import QueueManager
from laravel_queue.pytest_celery import LqWorkerContainer, build_context, docker_missing

from . import pytest_celery_jobs
from .support import ServiceUrls

pytest_plugins = ["pytester"]


def test_the_container_app_and_command_run_jobs(
    redis_urls: ServiceUrls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What pytest-celery mounts at /app, run with the container's command."""
    monkeypatch.setenv("LQ_HOME", str(tmp_path))
    app = Celery("dispatcher", broker=redis_urls.broker, set_as_current=False)
    content = LqWorkerContainer.initial_content(
        worker_tasks=LqWorkerContainer.tasks_modules() | {pytest_celery_jobs}, worker_app=app
    )
    for name, data in content.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    manager = QueueManager(app)
    pytest_celery_jobs.Greet.dispatch("Taylor")
    manager.close()
    env = {**os.environ, "CELERY_BROKER_URL": redis_urls.broker, "PYTHONPATH": str(tmp_path)}
    python, *command = LqWorkerContainer.command("--stop-when-empty", "--concurrency", "1")
    assert python == "python"  # the image's; here, the test run's
    run = subprocess.run(
        [sys.executable, *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "lq_test_worker@" in output and " ready." in output  # pytest-celery's ready prompt
    assert "greeted Taylor" in output


def test_the_image_context_holds_the_laravel_queue_under_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LQ_WORKER_PKG", raising=False)
    monkeypatch.setenv("LQ_WORKER_REQUIREMENTS", "shop-models==1.0")
    context = build_context(tmp_path)
    assert (context / "laravel_queue" / "pytest_celery.py").exists()
    assert not list(context.rglob("__pycache__"))
    requirements = (context / "requirements.txt").read_text().split()
    assert any(line.startswith("celery==") for line in requirements)
    assert "shop-models==1.0" in requirements
    assert "FROM python:${PYTHON_VERSION}" in (context / "Dockerfile").read_text()
    assert LqWorkerContainer.buildargs()["PYTHON_VERSION"] == "{}.{}".format(*sys.version_info)


USER_CONFTEST = """
import pytest
from pytest_celery import CeleryWorkerCluster

pytest_plugins = ["laravel_queue.pytest_celery"]

@pytest.fixture
def celery_worker_cluster(lq_celery_worker):  # pytest-celery's own celery_setup, our worker
    cluster = CeleryWorkerCluster(lq_celery_worker)
    yield cluster
    cluster.teardown()
"""

USER_TESTS = """
import pytest
import greet_jobs

@pytest.fixture
def lq_worker_jobs():
    return {greet_jobs}

def test_a_job_runs_in_docker(lq_celery_setup):
    greet_jobs.Greet.dispatch("Taylor")
    lq_celery_setup.worker.assert_log_exists("greeted Taylor")

def test_pytest_celerys_own_setup_runs_our_worker(celery_setup):
    assert celery_setup.worker.worker_name == "lq_test_worker"
    assert celery_setup.ready(ping=True)
"""


def users_docker_tests(pytester: pytest.Pytester) -> pytest.RunResult:
    """A project's Docker test run, the plugin loaded as documented (pytest-celery's own
    plugin loads itself, as in any project that installs it)."""
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(greet_jobs=Path(pytest_celery_jobs.__file__).read_text())
    pytester.makepyfile(test_docker=USER_TESTS)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-rs", timeout=900)
    outcomes = result.parseoutcomes()
    assert not {"failed", "error", "errors"} & set(outcomes), result.stdout.str()
    return result


def test_without_docker_the_tests_are_skipped_with_the_reason(pytester: pytest.Pytester) -> None:
    if docker_missing() is None:
        pytest.skip("a Docker engine answers here (the tests run: see the next test)")
    result = users_docker_tests(pytester)
    assert result.parseoutcomes()["skipped"] == 4  # two tests, once per broker each
    result.stdout.fnmatch_lines(["*SKIPPED*no Docker engine answers*"])


def test_a_job_runs_in_docker_on_each_broker(pytester: pytest.Pytester) -> None:
    missing = docker_missing()
    if missing is not None:
        pytest.skip(missing)
    outcomes = users_docker_tests(pytester).parseoutcomes()
    assert outcomes.get("passed") == 4 and "skipped" not in outcomes

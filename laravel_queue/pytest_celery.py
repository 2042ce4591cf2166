"""laravel_queue's worker in pytest-celery's Docker setups (`laravel_queue[pytest-celery]`).

pytest-celery starts brokers, backends and workers in containers for each test; this plugin
gives it a worker that runs `lq work` on an image built from the recipe shipped with the
package (`laravel_queue/docker/Dockerfile`), with this very laravel_queue inside, so a test
dispatches jobs with `Job.dispatch()` and a real worker in Docker runs them.

It is not an entry point, so installing the extra changes no test run that does not ask for
it. Load it from the conftest.py at the project's root:

    pytest_plugins = ["laravel_queue.pytest_celery"]

- `lq_worker_jobs`: the modules of the jobs the worker runs; override it. Their source is
  copied into the worker, as pytest-celery does with task modules, so what they import must
  be in the image (`LQ_WORKER_REQUIREMENTS`: extra pip requirements, space-separated).
- `lq_celery_worker`: that worker (a pytest-celery `CeleryTestWorker`).
- `lq_celery_setup`: a pytest-celery `CeleryTestSetup` with `lq_celery_worker`, once per
  broker pytest-celery runs (Redis, RabbitMQ), and a `QueueManager` on its app made current.
- Where no Docker engine answers, the tests that use them are skipped, with the reason.

pytest-celery's own plugin (loaded by its entry point once installed) replaces the
in-process `celery_worker` of `celery.contrib.pytest`; run those tests with `-p no:celery`.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import celery
import docker
import pytest
from celery import Celery
from pytest_celery import (
    DEFAULT_WORKER_CONTAINER_TIMEOUT,
    DEFAULT_WORKER_VOLUME,
    CeleryBackendCluster,
    CeleryBrokerCluster,
    CeleryTestSetup,
    CeleryTestWorker,
    CeleryWorkerCluster,
    CeleryWorkerContainer,
)
from pytest_docker_tools import build, container, fxtr, volume

from laravel_queue.manager import QueueManager

PACKAGE = Path(__file__).resolve().parent
RECIPE = PACKAGE / "docker" / "Dockerfile"
VERSION = metadata.version("laravel_queue")
# The modules the fixtures below bring into a test: a test using any of them needs Docker.
DOCKER_FIXTURES = frozenset({"lq_celery_setup", "lq_celery_worker", "lq_worker_container"})

# Runs in the worker after pytest-celery's app module has configured `app`.
BINDING = b"""
from laravel_queue import QueueManager

manager = QueueManager(app)
"""


class LqWorkerContainer(CeleryWorkerContainer):  # type: ignore[misc]
    """pytest-celery's worker container, running `lq work` on laravel_queue's image."""

    @classmethod
    def version(cls) -> str:
        return str(celery.__version__)  # the image pins the Celery of the test run

    @classmethod
    def worker_name(cls) -> str:
        return "lq_test_worker"

    @classmethod
    def worker_queue(cls) -> str:
        """laravel_queue's default queue (pytest-celery sends its ping task there too)."""
        return "default"

    @classmethod
    def command(cls, *args: str, **_: Any) -> list[str]:
        """`lq work` on the mounted app module; its "<name> ready." log line is what
        pytest-celery waits for."""
        queues = ",".join(dict.fromkeys([cls.worker_queue(), "celery"]))  # + Celery's default
        return [
            *("python", "-m", "laravel_queue", "--app", "app", "work"),
            *("--queue", queues, "--name", f"{cls.worker_name()}@%h"),
            *("--loglevel", cls.log_level(), *args),
        ]

    @classmethod
    def buildargs(cls) -> dict[str, str]:
        return {
            "PYTHON_VERSION": f"{sys.version_info.major}.{sys.version_info.minor}",
            "LQ_WORKER_PKG": os.environ.get("LQ_WORKER_PKG", ""),
            "CELERY_LOG_LEVEL": cls.log_level(),
            "CELERY_WORKER_NAME": cls.worker_name(),
            "CELERY_WORKER_QUEUE": cls.worker_queue(),
        }

    @classmethod
    def initial_content(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """pytest-celery's app module, with a QueueManager bound to its app."""
        content: dict[str, Any] = super().initial_content(*args, **kwargs)
        content["app.py"] += BINDING
        return content


def build_context(directory: Path) -> Path:
    """The Docker build context of the worker image, written into `directory`."""
    shutil.copy(RECIPE, directory / "Dockerfile")
    (directory / "requirements.txt").write_text("\n".join(requirements()) + "\n")
    if not os.environ.get("LQ_WORKER_PKG"):
        shutil.copytree(
            PACKAGE, directory / "laravel_queue", ignore=shutil.ignore_patterns("__pycache__")
        )
    return directory


def requirements() -> list[str]:
    """laravel_queue's own requirements, Celery, Kombu and pytest-celery pinned to the test
    run's versions, and `LQ_WORKER_REQUIREMENTS`."""
    pinned = {name: metadata.version(name) for name in ("celery", "kombu", "pytest-celery")}
    own = [
        requirement
        for requirement in metadata.requires("laravel_queue") or []
        if "extra ==" not in requirement
    ]
    return [
        *own,
        *(f"{name}=={version}" for name, version in pinned.items()),
        *os.environ.get("LQ_WORKER_REQUIREMENTS", "").split(),
    ]


@cache
def docker_missing() -> str | None:
    """Why no Docker engine can be used here, or None when one answers."""
    try:
        docker.from_env(timeout=5).ping()
    except Exception as exc:  # the SDK raises DockerException, requests' or OSError's
        return f"no Docker engine answers ({exc})"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip, with the reason, the tests that need a Docker engine where none answers."""
    for item in items:
        if DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            reason = docker_missing()
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def lq_worker_jobs() -> set[ModuleType]:
    """The job modules the worker in Docker imports; override it to return yours."""
    return set()


@pytest.fixture(scope="session")
def lq_worker_build_context(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_context(tmp_path_factory.mktemp("lq_worker_image")))


lq_worker_image = build(
    path="{lq_worker_build_context}",
    tag=f"laravel_queue/pytest-celery-worker:{VERSION}",
    buildargs=LqWorkerContainer.buildargs(),
)


@pytest.fixture
def lq_worker_initial_content(
    lq_worker_jobs: set[ModuleType], celery_setup_app: Celery
) -> dict[str, Any]:
    return LqWorkerContainer.initial_content(
        worker_tasks=LqWorkerContainer.tasks_modules() | lq_worker_jobs,
        worker_app=celery_setup_app,
    )


@pytest.fixture
def lq_worker_env(celery_worker_cluster_config: dict[str, Any]) -> dict[str, str]:
    return dict(LqWorkerContainer.initial_env(celery_worker_cluster_config))


lq_worker_volume = volume(initial_content=fxtr("lq_worker_initial_content"))

lq_worker_container = container(
    image="{lq_worker_image.id}",
    environment=fxtr("lq_worker_env"),
    network="{default_pytest_celery_network.name}",
    volumes={"{lq_worker_volume.name}": DEFAULT_WORKER_VOLUME},
    wrapper_class=LqWorkerContainer,
    timeout=DEFAULT_WORKER_CONTAINER_TIMEOUT,
    command=LqWorkerContainer.command(),
)


@pytest.fixture
def lq_celery_worker(
    lq_worker_container: LqWorkerContainer, celery_setup_app: Celery
) -> Iterator[CeleryTestWorker]:
    """laravel_queue's worker in Docker, for pytest-celery's setups."""
    worker = CeleryTestWorker(container=lq_worker_container, app=celery_setup_app)
    yield worker
    worker.teardown()


@pytest.fixture
def lq_celery_setup(
    lq_celery_worker: CeleryTestWorker,
    celery_broker_cluster: CeleryBrokerCluster,
    celery_backend_cluster: CeleryBackendCluster,
    celery_setup_app: Celery,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[CeleryTestSetup]:
    """pytest-celery's setup with laravel_queue's worker, and a QueueManager on its app made
    current: `Job.dispatch()` in the test reaches the worker in Docker. The test's own
    stores (failed jobs, cache) are the embedded SQLite default in its temporary directory;
    the worker's are its own, inside the container."""
    monkeypatch.setenv("LQ_HOME", str(tmp_path))
    setup = CeleryTestSetup(
        worker_cluster=CeleryWorkerCluster(lq_celery_worker),
        broker_cluster=celery_broker_cluster,
        backend_cluster=celery_backend_cluster,
        app=celery_setup_app,
    )
    assert setup.ready(ping=False, control=False, docker=False)
    manager = QueueManager(celery_setup_app)
    yield setup
    manager.close()
    setup.teardown()

"""Models in jobs on real `lq work` processes: the message carries each model's class and
key, the worker loads the row as it is when the job runs, one query per model class."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from laravel_queue import Queue, QueueManager
from laravel_queue.exceptions import JobEncodeError

from ..model_jobs import (
    Base,
    DeletesWhenMissing,
    Podcast,
    ProcessEncrypted,
    ProcessMany,
    ProcessPodcast,
    RenamesPodcast,
    Show,
    Track,
)
from ..support import lines, lq_running, wait_until


@pytest.fixture(params=["sqlite", "postgresql"])
def models_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'models.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture
def models_manager(
    models_db: tuple[str, Engine], lq_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[QueueManager]:
    monkeypatch.setenv("LQ_ENCRYPTION_KEY", Fernet.generate_key().decode())  # and the worker
    manager = QueueManager(models=sessionmaker(models_db[1]))
    yield manager
    manager.engine.dispose()


def test_the_worker_loads_each_model_fresh_and_settles_missing_ones(
    models_db: tuple[str, Engine], models_manager: QueueManager, trace: Path
) -> None:
    url, engine = models_db
    with Session(engine) as session:
        show = Show(id=7, name="Morning")
        podcasts = [Podcast(id=n, title=f"episode {n}", secret="s3cret") for n in range(1, 106)]
        podcasts[0].show = show
        tracks = {
            "a": Track(album="blue", number=1, title="one"),
            "b": Track(album="blue", number=2, title="two"),
        }
        session.add_all([show, *podcasts, *tracks.values()])
        session.commit()
        first, gone, quiet = podcasts[0], podcasts[1], podcasts[2]
        updated = ProcessPodcast(str(trace), first).dispatch()
        ProcessMany(str(trace), podcasts[5:], tracks).dispatch()  # 100
        failing = ProcessPodcast(str(trace), gone).dispatch()
        deleted = DeletesWhenMissing(str(trace), quiet).dispatch()
        encrypted = ProcessEncrypted(str(trace), podcasts[3]).dispatch()
        renames = RenamesPodcast(podcasts[4], "renamed by the job").dispatch()

        # The broker's message holds the class and the key, never a column.
        bodies = broker_bodies(models_manager)
        assert len(bodies) == 6
        assert '"podcast":{"__lq__":["model","tests.model_jobs:Podcast",1]}' in bodies[updated]
        assert '["model","tests.model_jobs:Track",["blue",2]]' in "".join(bodies.values())
        assert not any("episode" in body or "s3cret" in body for body in bodies.values())
        # An encrypted job's model key is inside the encrypted state.
        assert "Podcast" not in bodies[encrypted] and "model" not in bodies[encrypted]

        first.title = "updated before the job ran"
        session.delete(gone)
        session.delete(quiet)
        session.commit()

    ids = [updated, failing, deleted, encrypted, renames]
    expected = ["succeeded", "failed", "deleted", "succeeded", "succeeded"]
    env = {"LQ_TEST_MODELS_DB": url}
    with lq_running("--app", "tests.models_app", "work", "--sleep", "0.1", env=env) as worker:
        wait_until(lambda: [state(job) for job in ids] == expected, timeout=60)
    said = lines(trace)
    assert any(
        line.startswith("updated before the job ran show=Morning queries=1 ") for line in said
    ), said
    assert "many n=100 last=episode 105 a=one,b=two queries=2" in said, said  # one per class
    assert any(line.startswith("episode 4 show=- queries=1") for line in said), said
    [row] = models_manager.failed.all()
    assert row.uuid == failing
    assert row.exception.splitlines()[-1].startswith(
        "laravel_queue.exceptions.ModelNotFoundError: no tests.model_jobs.Podcast with the "
        "primary key 2: deleted after the job was dispatched"
    )
    log = "".join(worker.output)
    gone_line = f"DeletesWhenMissing[{deleted}]: no tests.model_jobs.Podcast with the primary key 3"
    assert f"] deleted tests.model_jobs.{gone_line}" in log
    with Session(engine) as session:
        assert session.get(Podcast, 5).title == "renamed by the job"


def state(job_id: str | None) -> str | None:
    status = Queue.status(job_id or "")
    return status.state if status else None


def broker_bodies(manager: QueueManager) -> dict[str, str]:
    """Each queued message's body, as the embedded default's broker table holds it, by uuid."""
    with manager.engine.connect() as connection:
        rows = connection.execute(text("SELECT payload FROM kombu_message")).scalars().all()
    bodies = {}
    for row in rows:
        envelope = json.loads(row)
        body = base64.b64decode(envelope["body"]).decode()
        bodies[envelope["headers"]["id"]] = body.replace(" ", "")
    return bodies


def test_an_unsaved_model_is_refused_at_dispatch(models_manager: QueueManager, trace: Path) -> None:
    with pytest.raises(
        JobEncodeError,
        match=r"ProcessPodcast.podcast is a tests.model_jobs.Podcast that is not saved yet .* "
        "or pass its id",
    ):
        ProcessPodcast(str(trace), Podcast(title="draft")).dispatch()

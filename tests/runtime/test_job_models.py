"""Loading a job's models when it runs: fresh rows, one query per class, in a session that
lives as long as the run; and what happens when the worker cannot load them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from laravel_queue import Bus, Queue, QueueManager
from laravel_queue.exceptions import JobDecodeError
from laravel_queue.jobs.models import RunModels
from laravel_queue.messages.model_keys import ModelKey

from ..model_jobs import Base, Podcast, ProcessMany, ProcessPodcast, Show, Track
from ..support import lines, wait_until, worker


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'models.sqlite'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            [Show(id=1, name="Morning"), *(Podcast(id=n, title=f"p{n}") for n in range(1, 6))]
        )
        session.add_all(Track(album="a", number=n, title=f"t{n}") for n in range(1, 3))
        session.commit()
    yield engine
    engine.dispose()


def test_every_key_in_the_state_is_replaced_with_one_query_per_class(engine: Engine) -> None:
    selects: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: selects.append(a[2]))
    models = RunModels(sessionmaker(engine))
    state = models.restore(
        {
            "one": ModelKey("tests.model_jobs:Podcast", 1),
            "listed": [ModelKey("tests.model_jobs:Podcast", n) for n in (5, 2, 1)],
            "by_name": {"x": ModelKey("tests.model_jobs:Track", ("a", 2))},
            "pair": (ModelKey("tests.model_jobs:Track", ("a", 1)), "plain"),
            "plain": 7,
        }
    )
    assert [p.title for p in state["listed"]] == ["p5", "p2", "p1"]
    assert state["one"] is state["listed"][2]  # one row, one object
    assert state["by_name"]["x"].title == "t2" and state["pair"][0].title == "t1"
    assert state["pair"][1] == "plain" and state["plain"] == 7
    assert len(selects) == 2  # Podcast, Track
    assert models.session is not None and state["one"] in models.session  # still attached
    models.close()
    assert models.session is None


def test_a_model_class_the_worker_has_not_loaded_is_named() -> None:
    with pytest.raises(JobDecodeError, match=r"shop\.models:Gone is not loaded in this worker"):
        RunModels(None).restore({"x": ModelKey("shop.models:Gone", 1)})


def test_dispatch_sync_and_a_chain_load_their_models(
    engine: Engine, lq_home: Path, trace: Path
) -> None:
    manager = QueueManager(models=sessionmaker(engine))
    with Session(engine) as session:
        first, second = session.get(Podcast, 1), session.get(Podcast, 2)
        assert first is not None and second is not None
        ProcessPodcast(str(trace), first).dispatch_sync()
        Bus.chain(
            [ProcessPodcast(str(trace), first), ProcessMany(str(trace), [second], {})]
        ).dispatch()
        session.execute(Podcast.__table__.update().values(title="changed"))
        session.commit()
    with worker(manager):
        wait_until(lambda: len(lines(trace)) == 3)
    said = [line.split(" pid=")[0] for line in lines(trace)]
    assert said == [
        "p1 show=- queries=0",  # in this process: nothing counts its queries
        "changed show=- queries=0",
        "many n=1 last=changed  queries=0",
    ]
    manager.engine.dispose()


def test_a_sqlalchemy_model_without_a_session_factory_fails_naming_the_fix(
    engine: Engine, lq_home: Path, trace: Path
) -> None:
    manager = QueueManager()
    with Session(engine) as session:
        podcast = session.get(Podcast, 1)
        job_id = ProcessPodcast(str(trace), podcast).dispatch()
    with worker(manager):
        wait_until(lambda: manager.failed.count() == 1)
    [row] = manager.failed.all()
    assert row.uuid == job_id
    assert "QueueManager(models=sessionmaker(engine))" in row.exception.splitlines()[-1]
    status = Queue.status(job_id or "")
    assert status is not None and status.state == "failed"
    manager.engine.dispose()

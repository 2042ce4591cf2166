"""Models in a job's state: each becomes its class and primary key, never its columns."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from laravel_queue.exceptions import JobEncodeError
from laravel_queue.messages.encoding import decode_value, encode_value
from laravel_queue.messages.model_keys import ModelKey

from ..model_jobs import Base, Podcast, ProcessPodcast, Track


class Other(DeclarativeBase):
    pass


class Token(Other):
    __tablename__ = "lq_test_tokens"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))


@pytest.fixture
def session() -> Session:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    Other.metadata.create_all(engine)
    return Session(engine)


def test_a_saved_model_is_its_class_and_key(session: Session) -> None:
    podcast, track = Podcast(id=3, title="t"), Track(album="a", number=2, title="x")
    token = Token(id=uuid.UUID(int=5), name="n")
    session.add_all([podcast, track, token])
    session.flush()
    assert encode_value(podcast, "job.podcast") == {
        "__lq__": ["model", "tests.model_jobs:Podcast", 3]
    }
    assert encode_value(track, "job.track") == {
        "__lq__": ["model", "tests.model_jobs:Track", ["a", 2]]  # a composite key: a list
    }
    encoded = encode_value({"many": [podcast, track], "token": token}, "job.x")
    assert decode_value(encoded) == {
        "many": [
            ModelKey("tests.model_jobs:Podcast", 3),
            ModelKey("tests.model_jobs:Track", ("a", 2)),
        ],
        "token": ModelKey("tests.messages.test_model_keys:Token", uuid.UUID(int=5)),
    }
    # A key not loaded goes on as it came (a chain's next job carries it).
    assert encode_value(ModelKey("tests.model_jobs:Track", ("a", 2)), "x") == encode_value(
        track, "x"
    )


def test_an_unsaved_or_unflushed_model_is_refused_naming_the_attribute(session: Session) -> None:
    pending = Podcast(title="draft")
    session.add(pending)  # added, not flushed: no key yet
    for unsaved in (Podcast(title="draft"), pending):
        with pytest.raises(JobEncodeError) as raised:
            ProcessPodcast("trace", unsaved).encode_state()
        assert str(raised.value) == (
            "ProcessPodcast.podcast is a tests.model_jobs.Podcast that is not saved yet (it has "
            "no primary key): save it first (session.commit() or flush(); .save() in Django) "
            "so the worker can load it, or pass its id instead"
        )


def test_a_model_s_tag_names_its_class_and_key(session: Session) -> None:
    podcast, track = Podcast(id=42, title="t"), Track(album="blue", number=2, title="x")
    session.add_all([podcast, track])
    session.flush()
    job = ProcessPodcast("trace", podcast)
    job.others = [track]  # type: ignore[attr-defined]
    assert job.tags() == ["tests.model_jobs.Podcast:42", "tests.model_jobs.Track:blue,2"]
    assert ProcessPodcast("trace", Podcast(title="unsaved")).tags() == []

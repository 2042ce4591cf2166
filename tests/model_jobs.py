"""SQLAlchemy models and the jobs that carry them, for the models-in-jobs tests (the worker
loads them with `tests.models_app`)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session, relationship

from laravel_queue import Job, ShouldBeEncrypted

QUERIES: list[str] = []
"""The statements the worker's models engine ran since the last job reported them."""


class Base(DeclarativeBase):
    pass


class Show(Base):
    __tablename__ = "lq_test_shows"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Podcast(Base):
    __tablename__ = "lq_test_podcasts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str] = mapped_column(String(100), default="")
    show_id: Mapped[int | None] = mapped_column(ForeignKey("lq_test_shows.id"), nullable=True)
    show: Mapped[Show | None] = relationship()


class Track(Base):
    """A model with a composite primary key."""

    __tablename__ = "lq_test_tracks"
    album: Mapped[str] = mapped_column(String(50), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))


def _say(trace: str, line: str) -> None:
    with Path(trace).open("a") as out:
        out.write(line + "\n")


def _selects() -> int:
    count = sum(1 for statement in QUERIES if statement.lstrip().upper().startswith("SELECT"))
    QUERIES.clear()
    return count


class ProcessPodcast(Job):
    def __init__(self, trace: str, podcast: Podcast) -> None:
        self.trace = trace
        self.podcast = podcast

    def handle(self) -> None:
        loaded = _selects()  # before anything the job itself reads
        show = self.podcast.show.name if self.podcast.show else "-"
        _say(self.trace, f"{self.podcast.title} show={show} queries={loaded} pid={os.getpid()}")


class DeletesWhenMissing(ProcessPodcast):
    delete_when_missing_models = True


class ProcessEncrypted(ProcessPodcast, ShouldBeEncrypted):
    pass


class ProcessMany(Job):
    def __init__(self, trace: str, podcasts: list[Podcast], tracks: dict[str, Track]) -> None:
        self.trace = trace
        self.podcasts = podcasts
        self.tracks = tracks

    def handle(self) -> None:
        loaded = _selects()
        titles = [p.title for p in self.podcasts]
        track = ",".join(f"{k}={t.title}" for k, t in sorted(self.tracks.items()))
        _say(self.trace, f"many n={len(titles)} last={titles[-1]} {track} queries={loaded}")


class RenamesPodcast(Job):
    """Changes its model and commits through the session the worker loaded it in."""

    def __init__(self, podcast: Podcast, title: str) -> None:
        self.podcast = podcast
        self.title = title

    def handle(self) -> None:
        self.podcast.title = self.title
        session = object_session(self.podcast)
        assert session is not None
        session.commit()

"""The failed_jobs repository over a migrated database: SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from laravel_queue.db.engine import make_engine
from laravel_queue.db.migrate import migrate
from laravel_queue.failed.repository import FailedJobRepository


@pytest.fixture
def repository(database_url: str) -> Iterator[FailedJobRepository]:
    engine = make_engine(database_url)
    migrate(engine)
    yield FailedJobRepository(engine)
    engine.dispose()

"""A private redis-server per test: the fault tests kill, freeze and restart it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support import PrivateRedis, private_redis


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path) as server:
        yield server

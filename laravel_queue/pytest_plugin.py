"""pytest fixtures for projects that use laravel_queue (registered as a `pytest11` entry
point, so installing the package is enough).

`queue_fake` and `bus_fake` fake the current manager's queue or bus for one test and put the
real ones back afterwards (Laravel: `Queue::fake()` / `Bus::fake()` in a test's setUp)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .bus import Bus
from .queue import Queue
from .testing import BusFake, QueueFake


@pytest.fixture
def queue_fake() -> Iterator[QueueFake]:
    """`Queue.fake()` for this test: pushed jobs are recorded, not sent."""
    with Queue.fake() as fake:
        yield fake


@pytest.fixture
def bus_fake() -> Iterator[BusFake]:
    """`Bus.fake()` for this test: dispatched jobs, chains and batches are recorded."""
    with Bus.fake() as fake:
        yield fake

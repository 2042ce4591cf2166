"""call_within: a store call that gives up after its deadline, on a helper thread."""

from __future__ import annotations

import threading
import time

import pytest

from laravel_queue.db.bounded import call_within
from laravel_queue.exceptions import StoreTimeoutError


def test_returns_what_the_call_returns_and_raises_what_it_raises() -> None:
    assert call_within(5, lambda: 42, "the store") == 42
    with pytest.raises(ZeroDivisionError):
        call_within(5, lambda: 1 // 0, "the store")


def test_a_call_over_its_deadline_gives_up_and_the_next_call_is_not_held_by_it() -> None:
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(StoreTimeoutError, match=r"the store did not answer within 0\.2s"):
        call_within(0.2, release.wait, "the store")
    assert time.monotonic() - started < 2
    started = time.monotonic()
    assert call_within(5, lambda: "answered", "the store") == "answered"  # the hung one waits on
    assert time.monotonic() - started < 1
    release.set()

"""call_within: a store call that gives up after its deadline, on a helper kept per thread."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from laravel_queue.exceptions import StoreTimeoutError
from laravel_queue.failed.bounded import call_within


def helper_thread() -> int:
    return threading.get_ident()


def test_returns_what_the_call_returns_and_raises_what_it_raises() -> None:
    assert call_within(5, lambda: 42, "the store") == 42
    with pytest.raises(ZeroDivisionError):
        call_within(5, lambda: 1 // 0, "the store")


def test_the_helper_thread_is_kept_between_calls() -> None:
    first = call_within(5, helper_thread, "the store")
    assert first != threading.get_ident()
    assert call_within(5, helper_thread, "the store") == first


def test_a_call_over_its_deadline_gives_up_and_the_next_call_gets_a_new_helper() -> None:
    release = threading.Event()
    stuck = call_within(5, helper_thread, "the store")
    started = time.monotonic()
    with pytest.raises(StoreTimeoutError, match=r"the store did not answer within 0\.2s"):
        call_within(0.2, release.wait, "the store")
    assert time.monotonic() - started < 2
    started = time.monotonic()
    assert call_within(5, helper_thread, "the store") != stuck  # not queued behind the hung one
    assert time.monotonic() - started < 1
    release.set()


def call_in_child(results: multiprocessing.Queue[int]) -> None:
    results.put(call_within(5, lambda: 7, "the store"))


def test_a_forked_child_gets_a_helper_of_its_own() -> None:
    call_within(5, helper_thread, "the store")  # the parent's helper exists before the fork
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[int] = context.Queue()
    child = context.Process(target=call_in_child, args=(results,))
    child.start()
    assert results.get(timeout=10) == 7
    child.join(timeout=10)
    assert child.exitcode == 0

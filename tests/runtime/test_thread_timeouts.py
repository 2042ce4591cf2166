"""Timeouts on the `threads` pool, where Celery enforces none: the job's thread gets the
timeout between two Python instructions, and the run ends as a timeout on prefork does."""

from __future__ import annotations

import threading
import time

from celery.exceptions import SoftTimeLimitExceeded

from laravel_queue.runtime import thread_timeouts


def test_the_watchdog_leaves_the_main_thread_and_a_finished_job_alone() -> None:
    with thread_timeouts.limited(0.05):  # the main thread: prefork and solo have their own
        time.sleep(0.3)
    errors: list[BaseException] = []

    def quick() -> None:
        try:
            with thread_timeouts.limited(0.3):
                pass
            time.sleep(0.6)  # after the block: nothing may land here
        except BaseException as exc:
            errors.append(exc)

    def slow() -> None:
        try:
            with thread_timeouts.limited(0.2):
                for _ in range(100):
                    time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=quick), threading.Thread(target=slow)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert [type(exc) for exc in errors] == [SoftTimeLimitExceeded]


def test_no_timeout_registers_nothing() -> None:
    registered: list[dict[int, float]] = []

    def job() -> None:
        with thread_timeouts.limited(0):
            registered.append(dict(thread_timeouts._deadlines))

    thread = threading.Thread(target=job)
    thread.start()
    thread.join(5)
    assert registered == [{}]

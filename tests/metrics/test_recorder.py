"""Runs are tallied in memory and written at most once a second; the report reads them back."""

from __future__ import annotations

import logging
import time

import pytest

from laravel_queue.cache.memory import MemoryStore
from laravel_queue.cache.redis import RedisStore
from laravel_queue.metrics.recorder import MetricsRecorder
from laravel_queue.metrics.report import build_report
from laravel_queue.metrics.series import Series
from laravel_queue.metrics.store import MetricsStore, Total

from ..support import ServiceUrls


def _store() -> MetricsStore:
    return MetricsStore(MemoryStore(prefix="m:"), window=3600)


def test_runs_are_counted_by_outcome_class_and_queue() -> None:
    store = _store()
    recorder = MetricsRecorder(store)
    for i in range(10):
        recorder.record("default", "emails", "SendEmail", "processed", 0.1 * (i + 1), 0.5)
    recorder.record("default", "emails", "SendEmail", "failed", 2.0, 1.0)
    recorder.record("default", "reports", "BuildReport", "released", 3.0, 0.0)
    recorder.flush()

    report = build_report(store, 3600)
    by_job = {f.name: f for f in report.jobs}
    assert (by_job["SendEmail"].processed, by_job["SendEmail"].failed) == (10, 1)
    assert by_job["BuildReport"].released == 1
    assert by_job["SendEmail"].failure_rate == pytest.approx(1 / 11)
    assert report.total.runs == 12
    assert sum(report.total.per_minute) == 12
    p50 = by_job["SendEmail"].runtime.p50
    assert p50 is not None and abs(p50 - 0.6) <= 0.01 * 0.6
    assert {f.name for f in build_report(store, 3600, queue="reports").jobs} == {"BuildReport"}

    totals = store.totals()
    emails = Series("default", "emails", "SendEmail")
    assert totals[Total("processed", emails)] == 10
    assert totals[Total("failed", emails)] == 1
    assert (
        totals[Total("runtime_us", emails)]
        == round(sum(0.1 * (i + 1) for i in range(10)) * 1e6) + 2_000_000
    )


def test_a_flush_with_nothing_new_writes_nothing() -> None:
    store = _store()
    recorder = MetricsRecorder(store)
    recorder.record("default", "q", "J", "processed", 0.01, 0.0)
    recorder.flush()
    writes: list[object] = []
    store.write = lambda *args: writes.append(args)  # type: ignore[method-assign]
    recorder.flush()
    assert writes == []


def test_only_monitored_tags_get_series_of_their_own() -> None:
    store = _store()
    store.monitor("User:7")
    recorder = MetricsRecorder(store)
    recorder.flush()  # reads the monitored tags (the writing thread does, once started)
    recorder.record("default", "q", "J", "processed", 0.01, 0.0, ["User:7", "Order:1"])
    recorder.record("default", "q", "J", "processed", 0.01, 0.0, ["User:8"])
    recorder.flush()
    assert build_report(store, 600, tag="User:7").total.processed == 1
    assert build_report(store, 600, tag="Order:1").total.processed == 0
    assert build_report(store, 600).total.processed == 2


def test_tallies_of_two_processes_and_of_many_flushes_add_up() -> None:
    store = _store()
    first, second = MetricsRecorder(store), MetricsRecorder(store)
    for _ in range(3):
        first.record("default", "q", "J", "processed", 0.2, 0.0)
        second.record("default", "q", "J", "processed", 0.4, 0.0)
        first.flush()
        second.flush()
    report = build_report(store, 600)
    assert report.total.processed == 6  # each minute field is the process's whole tally


def test_a_cache_that_is_down_loses_no_job_and_says_so_once(
    redis_urls: ServiceUrls, caplog: pytest.LogCaptureFixture
) -> None:
    dead = RedisStore("redis://127.0.0.1:1/0", prefix="m:", socket_timeout=0.2)
    recorder = MetricsRecorder(MetricsStore(dead, window=600))
    caplog.set_level(logging.WARNING, logger="laravel_queue")
    started = time.monotonic()
    for _ in range(3):
        recorder.record("default", "q", "J", "processed", 0.01, 0.0)  # never raises
        recorder.flush()
    assert time.monotonic() - started < 5
    said = [r for r in caplog.records if "metrics not written" in r.getMessage()]
    assert len(said) == 1

    # The same recorder against a store that answers again writes the minute's whole tally.
    live = RedisStore(redis_urls.cache, prefix="m-test:")
    try:
        recorder.store = MetricsStore(live, window=600)
        recorder.flush()
        assert build_report(recorder.store, 600).total.processed == 3
        assert any("written again" in r.getMessage() for r in caplog.records)
    finally:
        for key in live.client.scan_iter("m-test:*"):
            live.client.delete(key)

"""Metrics as an operator reads them: from `lq work` processes, through `lq stats --json`, the
Prometheus endpoint (scraped over HTTP), tags, and `LongWaitDetected`."""

from __future__ import annotations

import json
import random
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from laravel_queue import Queue
from laravel_queue.manager import QueueManager

from .. import jobs
from ..cli.support import run_lq
from ..support import ServiceUrls, lq, lq_running, wait_until, worker

# A known run-time distribution: p50 = 40 ms, p95 = 160 ms, p99 = 300 ms (ranks 499, 949
# and 989 of 1,000 sit well inside a block of equal values).
DISTRIBUTION = [(400, 0.01), (300, 0.04), (240, 0.08), (45, 0.16), (15, 0.3)]
TRUE = {"p50": 0.04, "p95": 0.16, "p99": 0.3}


@pytest.fixture
def redis_env(redis_urls: ServiceUrls, tmp_path: Path) -> dict[str, str]:
    return {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/store.sqlite",
    }


@pytest.fixture
def serving(redis_env: dict[str, str]) -> Iterator[str]:
    """`lq metrics:serve` on a free port; its /metrics URL."""
    process = lq("--app", "tests.apps", "metrics:serve", "--port", "0", env=redis_env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "Serving queue metrics at" in line, line
        yield line.split(" at ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.slow
def test_percentiles_from_two_workers_are_within_five_percent_and_every_view_agrees(
    redis_manager: QueueManager, redis_env: dict[str, str], serving: str
) -> None:
    seconds = [value for count, value in DISTRIBUTION for _ in range(count)]
    random.Random(3).shuffle(seconds)
    Queue.bulk([jobs.SleepsFor(s) for s in seconds])
    command = ("--app", "tests.apps", "work", "--concurrency", "2", "--sleep", "0.1")
    # Only this class: a test before may still have had a second of metrics to write.
    name = "tests.jobs.SleepsFor"
    with lq_running(*command, env=redis_env), lq_running(*command, env=redis_env):
        wait_until(lambda: Queue.metrics("1h", job=name).total.runs >= 1000, 120, every=0.5)
    (row,) = Queue.metrics("1h", job=name).jobs
    assert (row.processed, row.failed, row.released) == (1000, 0, 0)
    for quantile, true in TRUE.items():
        found = getattr(row.runtime, quantile)
        assert abs(found - true) <= 0.05 * true, (quantile, found, true)

    stats = json.loads(run_lq(redis_manager, "stats", "--json", "--class", name).output)
    (job,) = stats["jobs"]
    assert job["processed"] == 1000
    scraped = _scrape(serving)
    labels = frozenset({"connection": "default", "queue": "default", "job": name}.items())
    assert scraped[("lq_jobs_processed_total", labels)] == job["processed"]
    assert scraped[("lq_job_runtime_seconds_count", labels)] == 1000
    for name, q in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")):
        quantile = labels | {("quantile", q)}
        assert scraped[("lq_job_runtime_seconds", quantile)] == pytest.approx(
            job["runtime"][name], rel=1e-9
        )
    assert (
        scraped[
            ("lq_queue_pending_jobs", frozenset({("connection", "default"), ("queue", "default")}))
        ]
        == 0
    )


def test_failed_jobs_statuses_and_metrics_filter_on_tags(redis_manager: QueueManager) -> None:
    Queue.monitor("Customer:1")
    redis_manager.metrics.flush()  # type: ignore[union-attr]  # read the monitored tags now
    first = jobs.ChargesCustomer(jobs.Customer(1, "Ada"), fail=True).dispatch()
    jobs.ChargesCustomer(jobs.Customer(2, "Bob"), fail=True).dispatch()
    tagged = jobs.TaggedByHand("eu").dispatch()
    assert first is not None and tagged is not None
    assert Queue.status(first).tags == ["Customer:1"]  # type: ignore[union-attr]
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 2)
    assert [job.uuid for job in redis_manager.failed.all(tag="Customer:1")] == [first]
    listed = run_lq(redis_manager, "failed", "--tag", "Customer:1", "--json").output
    assert [json.loads(line)["uuid"] for line in listed.splitlines()] == [first]
    assert Queue.status(tagged).tags == ["region:eu", "billing"]  # type: ignore[union-attr]

    redis_manager.before_exit()  # what the worker's metrics thread writes each second
    assert Queue.metrics("5m", tag="Customer:1").total.failed == 1
    by_job = {f.name: f.runs for f in Queue.metrics("5m").jobs}
    assert by_job["tests.jobs.ChargesCustomer"] == 2 and by_job["tests.jobs.TaggedByHand"] == 1


def test_long_wait_detected_fires_once_while_a_queue_backs_up(
    redis_env: dict[str, str], redis_manager: QueueManager, tmp_path: Path
) -> None:
    waits = tmp_path / "waits.txt"
    env = {**redis_env, "LQ_TEST_WAIT_THRESHOLD": "1", "LQ_TEST_LONG_WAITS": str(waits)}
    jobs.Sleepy(str(tmp_path / "trace"), 8).dispatch()
    for _ in range(2):
        jobs.TaggedByHand("eu").dispatch()
    with lq_running("--app", "tests.apps", "work", "--concurrency", "1", env=env):
        ran = {"tests.jobs.Sleepy": 1, "tests.jobs.TaggedByHand": 2}
        wait_until(
            lambda: {f.name: f.runs for f in Queue.metrics("5m").jobs}.items() >= ran.items(),
            timeout=30,
            every=0.5,
        )
        time.sleep(6)  # a check after the queue drained ends the episode without firing
    lines = waits.read_text().splitlines()
    assert len(lines) == 1, lines
    connection, queue, seconds = lines[0].split()
    assert (connection, queue) == ("default", "default") and float(seconds) > 1

"""Prometheus: the metrics, the queues and the workers as a collector (`prometheus-client`).

`lq metrics:serve` serves it on its own port; an app that already serves `/metrics` mounts
`wsgi_app()` or `asgi_app()`, or registers `QueueCollector()` in its own registry. Each
scrape reads the cache store (the totals, the last `quantile_window` minutes, the worker
heartbeats) and the broker (each known queue's sizes): nothing is kept in the serving
process, so any number of them agree, and a scrape that cannot reach the store fails (the
target shows as down) rather than report zeros.

The metrics (names follow Prometheus's conventions; docs/monitoring.md lists them whole):
counters `lq_jobs_processed_total`, `lq_jobs_failed_total`, `lq_jobs_released_total` and
summaries `lq_job_runtime_seconds`, `lq_job_wait_seconds` (p50, p95, p99 over the last
`quantile_window` minutes) by connection, queue and job; gauges `lq_queue_pending_jobs`,
`lq_queue_delayed_jobs`, `lq_queue_reserved_jobs`, `lq_queue_oldest_pending_age_seconds` by
connection and queue; `lq_workers` by state, `lq_worker_last_heartbeat_timestamp_seconds`
and `lq_worker_active_jobs` by worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from laravel_queue.manager import QueueManager, current_manager
from laravel_queue.metrics.series import OUTCOMES, Series, Tally
from laravel_queue.overview import known_queues, queue_sizes
from laravel_queue.worker.heartbeat import WorkerRegistry, WorkerStatus

logger = logging.getLogger("laravel_queue")

QUANTILE_WINDOW_MINUTES = 5
QUANTILES = (0.5, 0.95, 0.99)
SERIES_LABELS = ["connection", "queue", "job"]
QUEUE_LABELS = ["connection", "queue"]


class QueueCollector(Collector):
    """The metrics listed above, read at each scrape; `queues` (`connection:queue` or
    `queue`) adds queues to the ones known from the metrics and the workers' heartbeats."""

    def __init__(
        self,
        manager: QueueManager | None = None,
        *,
        queues: Iterable[str] = (),
        quantile_window: int = QUANTILE_WINDOW_MINUTES,
    ) -> None:
        self._manager = manager
        self.queues = list(queues)
        self.quantile_window = quantile_window

    @property
    def manager(self) -> QueueManager:
        return self._manager or current_manager()

    def collect(self) -> Iterator[Metric]:
        store = self.manager.metrics_store
        totals = store.totals()
        series = sorted({total.series for total in totals})
        amounts = {(t.measure, t.series): amount for t, amount in totals.items()}
        for outcome in OUTCOMES:
            counter = CounterMetricFamily(
                f"lq_jobs_{outcome}", f"Runs of jobs that ended {outcome}.", labels=SERIES_LABELS
            )
            for s in series:
                counter.add_metric(_labels(s), amounts.get((outcome, s), 0))
            yield counter
        recent = self._recent(series)
        for name, measure, what in (
            ("lq_job_runtime_seconds", "runtime_us", "How long runs took"),
            ("lq_job_wait_seconds", "wait_us", "How long jobs waited to start"),
        ):
            summary = Metric(name, f"{what} (quantiles over the last minutes).", "summary")
            for s in series:
                labels = dict(zip(SERIES_LABELS, _labels(s), strict=True))
                runs = sum(amounts.get((outcome, s), 0) for outcome in OUTCOMES)
                summary.add_sample(f"{name}_count", labels, runs)
                summary.add_sample(f"{name}_sum", labels, amounts.get((measure, s), 0) / 1e6)
                tally = recent.get(s)
                distribution = None
                if tally is not None:
                    distribution = tally.runtime if measure == "runtime_us" else tally.wait
                for q in QUANTILES:
                    value = None if distribution is None else distribution.quantile(q)
                    if value is not None:
                        summary.add_sample(name, {**labels, "quantile": str(q)}, value)
            yield summary
        workers = WorkerRegistry(self.manager.cache).all()  # read once for both
        yield from self._queues(series, workers)
        yield from self._workers(workers)

    def _recent(self, series: list[Series]) -> dict[Series, Tally]:
        """Each series' tally over the quantile window, merged across minutes and workers."""
        last = int(time.time() // 60)
        merged: dict[Series, Tally] = {}
        for _, s, tally in self.manager.metrics_store.minutes(
            last - self.quantile_window + 1, last
        ):
            if not s.tag:
                merged.setdefault(s, Tally()).merge(tally)
        return merged

    def _queues(self, series: list[Series], workers: list[WorkerStatus]) -> Iterator[Metric]:
        manager = self.manager
        gauges: dict[str, GaugeMetricFamily] = {
            name: GaugeMetricFamily(f"lq_queue_{name}", what, labels=QUEUE_LABELS)
            for name, what in (
                ("pending_jobs", "Jobs waiting to be taken."),
                ("delayed_jobs", "Jobs waiting for their time."),
                ("reserved_jobs", "Jobs taken by a worker, not yet acknowledged."),
                ("oldest_pending_age_seconds", "How long the oldest pending job has waited."),
            )
        }
        for name_of_connection, queue in known_queues(manager, series, self.queues, workers):
            sizes = queue_sizes(manager.connection(name_of_connection), queue)
            for name, value in sizes.items():
                gauges[name].add_metric([name_of_connection, queue], value)
        yield from gauges.values()

    def _workers(self, workers: list[WorkerStatus]) -> Iterator[Metric]:
        now = time.time()
        count = GaugeMetricFamily("lq_workers", "Workers by heartbeat.", labels=["state"])
        healthy = sum(worker.healthy(now=now) for worker in workers)
        count.add_metric(["healthy"], healthy)
        count.add_metric(["stale"], len(workers) - healthy)
        beat = GaugeMetricFamily(
            "lq_worker_last_heartbeat_timestamp_seconds",
            "When each worker last wrote its heartbeat.",
            labels=["worker"],
        )
        active = GaugeMetricFamily(
            "lq_worker_active_jobs", "Jobs each worker is running.", labels=["worker"]
        )
        for worker in workers:
            beat.add_metric([worker.name], worker.last_heartbeat)
            active.add_metric([worker.name], worker.active)
        yield from (count, beat, active)


def _labels(series: Series) -> list[str]:
    return [series.connection, series.queue, series.job]


def registry(manager: QueueManager | None = None, **options: Any) -> CollectorRegistry:
    """A registry holding only the queue collector (what `lq metrics:serve` serves)."""
    made = CollectorRegistry()
    made.register(QueueCollector(manager, **options))
    return made


def wsgi_app(manager: QueueManager | None = None, **options: Any) -> Callable[..., Any]:
    """A WSGI app serving the metrics (mount it at `/metrics` in Flask or Django)."""
    return make_wsgi_app(registry(manager, **options))


def asgi_app(manager: QueueManager | None = None, **options: Any) -> Callable[..., Any]:
    """An ASGI app serving the metrics (`app.mount("/metrics", asgi_app())` in FastAPI)."""
    return make_asgi_app(registry(manager, **options))

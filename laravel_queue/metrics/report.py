"""The figures `lq stats` prints and `Queue.metrics` returns, read from the minute buckets.

Every figure over a window is computed from the merged tallies of its minutes and of every
worker process: counts add up exactly, and percentiles come from the merged sketches (within
their 1 % relative error), never from averaging the percentiles of minutes or workers.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from laravel_queue.metrics.series import Series, Tally
from laravel_queue.metrics.sketch import Distribution
from laravel_queue.metrics.store import MetricsStore


@dataclass(frozen=True)
class Quantiles:
    """Percentiles of a distribution of seconds; None where nothing was observed."""

    p50: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def of(cls, distribution: Distribution) -> Quantiles:
        return cls(*(distribution.quantile(q) for q in (0.5, 0.95, 0.99)))


@dataclass(frozen=True)
class Figures:
    """The runs of one job class, one queue, or everything, over the report's window.

    `per_minute` holds the runs of each minute of the window, oldest first (the sparkline),
    `failed_per_minute` and `runtime_p95_per_minute` the failures and the p95 run time of each;
    `throughput` is runs per minute over the window; `failure_rate` the share of the jobs
    that ended (processed or failed) that failed."""

    name: str
    processed: int
    failed: int
    released: int
    runtime: Quantiles
    wait: Quantiles
    runtime_mean: float | None
    per_minute: tuple[int, ...] = field(default=())
    failed_per_minute: tuple[int, ...] = field(default=())
    runtime_p95_per_minute: tuple[float | None, ...] = field(default=())

    @property
    def runs(self) -> int:
        return self.processed + self.failed + self.released

    @property
    def throughput(self) -> float:
        return self.runs / max(len(self.per_minute), 1)

    @property
    def failure_rate(self) -> float:
        ended = self.processed + self.failed
        return self.failed / ended if ended else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "per_minute": list(self.per_minute),
            "failed_per_minute": list(self.failed_per_minute),
            "runtime_p95_per_minute": list(self.runtime_p95_per_minute),
            "runs": self.runs,
            "throughput": self.throughput,
            "failure_rate": self.failure_rate,
        }


@dataclass(frozen=True)
class MetricsReport:
    """`jobs` by class and `queues` by queue (`connection:queue` off the default connection),
    busiest first, and `total`, over the minutes from `since` to `until` (unix times)."""

    since: float
    until: float
    jobs: tuple[Figures, ...]
    queues: tuple[Figures, ...]
    total: Figures

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "jobs": [figures.to_dict() for figures in self.jobs],
            "queues": [figures.to_dict() for figures in self.queues],
            "total": self.total.to_dict(),
        }


class _Merged:
    """The tallies of one row, merged, and its runs minute by minute."""

    def __init__(self, minutes: int) -> None:
        self.tally = Tally()
        self.minutes: list[Tally | None] = [None] * minutes

    def add(self, index: int, tally: Tally) -> None:
        self.tally.merge(tally)
        minute = self.minutes[index]
        if minute is None:
            minute = self.minutes[index] = Tally()
        minute.merge(tally)

    def figures(self, name: str) -> Figures:
        t = self.tally
        runtime = t.runtime
        return Figures(
            name=name,
            processed=t.processed,
            failed=t.failed,
            released=t.released,
            runtime=Quantiles.of(runtime),
            wait=Quantiles.of(t.wait),
            runtime_mean=runtime.sum / runtime.count if runtime.count else None,
            per_minute=tuple(m.runs if m else 0 for m in self.minutes),
            failed_per_minute=tuple(m.failed if m else 0 for m in self.minutes),
            runtime_p95_per_minute=tuple(
                m.runtime.quantile(0.95) if m else None for m in self.minutes
            ),
        )


def build_report(
    store: MetricsStore,
    since: float,
    *,
    queue: str | None = None,
    job: str | None = None,
    tag: str | None = None,
    connection: str | None = None,
    now: float | None = None,
) -> MetricsReport:
    """The figures of the last `since` seconds (whole minutes, the current one included),
    for one queue, job class, connection or monitored tag when given."""
    until = time.time() if now is None else now
    last = int(until // 60)
    first = int((until - since) // 60) + 1 if since >= 60 else last
    minutes = last - first + 1
    jobs: dict[str, _Merged] = defaultdict(lambda: _Merged(minutes))
    queues: dict[str, _Merged] = defaultdict(lambda: _Merged(minutes))
    total = _Merged(minutes)
    for minute, series, tally in store.minutes(first, last):
        if not _wanted(series, queue, job, tag or "", connection):
            continue
        index = minute - first
        jobs[series.job].add(index, tally)
        queues[_queue_name(series)].add(index, tally)
        total.add(index, tally)
    return MetricsReport(
        since=first * 60.0,
        until=until,
        jobs=_rows(jobs),
        queues=_rows(queues),
        total=total.figures("all"),
    )


def _wanted(
    series: Series, queue: str | None, job: str | None, tag: str, connection: str | None
) -> bool:
    return (
        series.tag == tag
        and (queue is None or series.queue == queue)
        and (job is None or series.job == job)
        and (connection is None or series.connection == connection)
    )


def _queue_name(series: Series) -> str:
    return series.queue if series.connection == "default" else f"{series.connection}:{series.queue}"


def _rows(merged: dict[str, _Merged]) -> tuple[Figures, ...]:
    rows = [m.figures(name) for name, m in merged.items()]
    return tuple(sorted(rows, key=lambda figures: (-figures.runs, figures.name)))

"""Enqueue-to-start latency on an idle worker, raw Celery beside laravel_queue, in one run.

    .venv/bin/python bench/latency.py --samples 300 --rounds 3

One job at a time: the benchmark notes the time, publishes a job carrying it, and waits for
the job to report how long after that it started (`bench.counting.record_latency`); then it
waits a little so the worker is idle (blocked on the broker) when the next one comes. Raw
Celery runs `lq work`'s delivery settings on Kombu's fetch; both sides prefork 1, on a
private redis-server. The sides alternate over the rounds; p50 and p99 of each round are
reported, median and spread over rounds. Targets: p50 <= 1.0x, p99 <= 1.2x raw Celery.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

use_private_broker()

from bench.apps import LatencyJob  # noqa: E402
from bench.counting import counter  # noqa: E402
from bench.harness import celery_worker, lq_worker, start, stop  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from bench.raw_app import raw_latency  # noqa: E402

IDLE = 0.02  # seconds between jobs: long enough for the worker to be waiting on the broker


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def collect(publish: Callable[[float], object], samples: int) -> list[float]:
    """`samples` latencies in ms, after as many warm-up jobs as a tenth of that."""
    latencies = []
    for n in range(samples + samples // 10):
        publish(time.time())
        reply = counter().blpop(["bench:latency"], timeout=30)
        assert reply is not None, "a job did not run within 30 s"
        if n >= samples // 10:
            latencies.append(float(reply[1]) * 1000)
        time.sleep(IDLE)
    return latencies


def measure(kind: str, samples: int) -> tuple[float, float]:
    queue = f"bench-latency-{kind}"
    counter().delete("bench:latency")
    worker = start(
        lq_worker(queue, concurrency=1) if kind == "lq" else celery_worker(queue, concurrency=1)
    )
    try:
        if kind == "lq":
            latencies = collect(lambda sent: LatencyJob(sent).on_queue(queue).dispatch(), samples)
        else:
            latencies = collect(lambda sent: raw_latency.apply_async((sent,), queue=queue), samples)
    finally:
        stop(worker)
    return percentile(latencies, 0.5), percentile(latencies, 0.99)


def rows(samples: int, rounds: int) -> list[Row]:
    results = interleaved(
        rounds, {kind: lambda _r, k=kind: measure(k, samples) for kind in ("celery", "lq")}
    )
    return [
        Row(
            f"enqueue -> start latency {label}, idle worker",
            "ms",
            [sample[index] for sample in results["lq"]],
            [sample[index] for sample in results["celery"]],
            ratio_at_most=target,
        )
        for index, label, target in ((0, "p50", 1.0), (1, "p99", 1.2))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    report_arguments(parser)
    args = parser.parse_args()
    title = f"{args.samples} jobs one at a time x {args.rounds} rounds, prefork 1"
    report(title, rows(args.samples, args.rounds), args.json)


if __name__ == "__main__":
    main()

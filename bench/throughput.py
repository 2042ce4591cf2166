"""Raw Celery vs laravel_queue on Redis, in one run: dispatch, bulk, drain, commands per job.

    .venv/bin/python bench/throughput.py --jobs 10000 --rounds 3

The broker is a private redis-server (`bench.servers`). Every figure is a median over
`--rounds` rounds in which the two sides alternate which goes first:

- *dispatch* and *bulk*: each side publishes in a fresh process of its own, connected and
  with its queue declared (one message sent and removed) before the clock starts; raw
  Celery's `apply_async` loop is the baseline of both.
- *drain*: the queue is filled, then the worker started; timed from the first job's own
  start (it stamps the time) to the last job counted, so neither start-up nor the wait after
  the last job is measured. Raw Celery runs `lq work`'s delivery settings (acks late, reject
  on worker lost, prefetch 1, fair, no mingle or gossip) on Kombu's own fetch; `lq work`
  runs with the same pool and concurrency. The *defaults* row starts both with nothing but
  the queue: `celery worker` against `lq work`.
- *broker commands per job*: `INFO commandstats` of the private broker over each prefork 1
  drain, start-up included.

Targets: dispatch >= 2.5x, bulk >= 5x the apply_async loop; drain >= 1.5x with prefork 2,
>= 1.0x on the other pools, defaults >= 1.3x; fewer broker commands per job than Kombu.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

BROKER = use_private_broker()

import redis  # noqa: E402

from bench.apps import CountedJob  # noqa: E402
from bench.counting import counter  # noqa: E402
from bench.harness import celery_worker, lq_worker, start, stop, wait_for  # noqa: E402
from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402
from bench.raw_app import raw_counted  # noqa: E402
from laravel_queue import Queue  # noqa: E402

broker = redis.Redis.from_url(BROKER)

PUBLISH = {
    "raw loop": (
        "from bench.raw_app import raw_noop as task",
        "task.apply_async(queue=QUEUE)",
        "for _ in range(JOBS): task.apply_async(queue=QUEUE)",
    ),
    "dispatch": (
        "from bench.apps import NoopJob",
        "NoopJob().on_queue(QUEUE).dispatch()",
        "for _ in range(JOBS): NoopJob().on_queue(QUEUE).dispatch()",
    ),
    "bulk": (
        "from bench.apps import NoopJob\nfrom laravel_queue import Queue",
        "Queue.bulk([NoopJob()], queue=QUEUE)",
        "Queue.bulk([NoopJob() for _ in range(JOBS)], queue=QUEUE)",
    ),
}


def publish_seconds(side: str, jobs: int) -> float:
    """Seconds one fresh, warmed process takes to publish `jobs` messages the `side` way."""
    imports, warm, loop = PUBLISH[side]
    queue = f"bench-publish-{side.replace(' ', '-')}"
    code = "\n".join(
        [
            "import time",
            imports,
            f"QUEUE, JOBS = {queue!r}, {jobs}",
            warm,
            "import redis, os",
            "redis.Redis.from_url(os.environ['LQ_BENCH_BROKER']).delete(QUEUE)",
            "started = time.perf_counter()",
            loop,
            "print(time.perf_counter() - started)",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    )
    assert broker.llen(queue) == jobs, f"{side}: {broker.llen(queue)} of {jobs} published"
    broker.delete(queue)
    return float(done.stdout.split()[-1])


def fill(kind: str, queue: str, jobs: int) -> None:
    if kind == "lq":
        for start_at in range(0, jobs, 1000):
            Queue.bulk([CountedJob() for _ in range(min(1000, jobs - start_at))], queue=queue)
    else:
        for _ in range(jobs):
            raw_counted.apply_async(queue=queue)


def drain(kind: str, jobs: int, pool: str, concurrency: int, defaults: bool) -> tuple[float, float]:
    """(jobs/s from the first job's start to the last count, broker commands per job)."""
    queue = f"bench-drain-{kind}"
    counter().delete("bench:done", "bench:first")
    fill(kind, queue, jobs)
    broker.config_resetstat()
    env = {"LQ_BENCH_CELERY_DEFAULTS": "1"} if defaults and kind == "celery" else {}
    command = (lq_worker if kind == "lq" else celery_worker)(queue, pool, concurrency, defaults)
    worker = start(command, **env)
    try:
        target = str(jobs).encode()
        wait_for(lambda: counter().get("bench:done") == target, timeout=600)
        finished = time.time()
        calls = sum(
            int(stats["calls"])
            for name, stats in broker.info("commandstats").items()
            if not name.startswith(("cmdstat_info", "cmdstat_config"))
        )
    finally:
        stop(worker)
    first = float(counter().get("bench:first") or 0)
    broker.flushdb()
    return (jobs - 1) / (finished - first), calls / jobs


def drain_once(
    kind: str, jobs: int, pool: str, concurrency: int, defaults: bool, _round: int
) -> tuple[float, float]:
    return drain(kind, jobs, pool, concurrency, defaults)


def rows(jobs: int, rounds: int) -> list[Row]:
    published = interleaved(
        rounds, {side: lambda _r, s=side: publish_seconds(s, jobs) for side in PUBLISH}
    )
    rate = {side: [jobs / seconds for seconds in samples] for side, samples in published.items()}
    result = [
        Row("dispatch (one process)", "jobs/s", rate["dispatch"], rate["raw loop"], 2.5),
        Row("Queue.bulk vs apply_async loop", "jobs/s", rate["bulk"], rate["raw loop"], 5.0),
    ]
    commands: dict[str, list[float]] = {}
    for name, pool, concurrency, defaults, target in (
        ("drain, prefork 1", "prefork", 1, False, 1.0),
        ("drain, prefork 2", "prefork", 2, False, 1.5),
        ("drain, solo", "solo", 1, False, 1.0),
        ("drain, each side's defaults", "prefork", 0, True, 1.3),
    ):
        samples = interleaved(
            rounds,
            {
                kind: partial(drain_once, kind, jobs, pool, concurrency, defaults)
                for kind in ("celery", "lq")
            },
        )
        raw_rates, our_rates = ([rate for rate, _ in samples[k]] for k in ("celery", "lq"))
        result.append(Row(name, "jobs/s", our_rates, raw_rates, target))
        if concurrency == 1 and pool == "prefork":
            commands = {k: [calls for _, calls in samples[k]] for k in samples}
    result.append(
        Row(
            "broker commands per job (prefork 1)",
            "commands",
            commands["lq"],
            commands["celery"],
            ratio_at_most=0.99,
        )
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    report_arguments(parser)
    args = parser.parse_args()
    title = f"{args.jobs:,} jobs x {args.rounds} rounds, broker on a private redis-server"
    report(title, rows(args.jobs, args.rounds), args.json)


if __name__ == "__main__":
    main()

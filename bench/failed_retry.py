"""`failed:retry all` on many rows: rows/s and peak memory, next to a raw Celery publish loop.

    .venv/bin/python bench/failed_retry.py                     # 10,000 rows, SQLite store
    LQ_BENCH_DATABASE=postgresql+psycopg://... .venv/bin/python bench/failed_retry.py --rows 20000

The raw side publishes the same messages with `app.send_task` in a loop (no database): the
ratio says what reading, deleting and event dispatch cost on top of publishing. Peak memory
is measured with tracemalloc in a second, separate pass (it slows Python down); running with
twice the rows shows it does not grow with the table (rows are streamed in chunks).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import redis
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

use_private_broker()
os.environ.setdefault("LQ_BENCH_DATABASE", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite")

from bench.apps import BROKER, NoopJob, app, manager  # noqa: E402
from bench.measure import Row, report, report_arguments  # noqa: E402
from laravel_queue.db.schema import failed_jobs  # noqa: E402
from laravel_queue.jobs.serialization import build_message  # noqa: E402
from laravel_queue.messages.records import FailureRecord  # noqa: E402

QUEUE = "bench-retry"
INSERT_CHUNK = 1000


def fill(rows: int) -> None:
    """`rows` failed NoopJobs, inserted 1,000 per statement."""
    manager.ensure_schema()
    manager.failed.flush()
    template = build_message(NoopJob(), "default", QUEUE, str(uuid.uuid4()))
    header = template.lq
    assert header is not None
    failed_at = datetime.now(timezone.utc).replace(tzinfo=None)
    with manager.engine.begin() as conn:
        for start in range(0, rows, INSERT_CHUNK):
            batch = []
            for _ in range(min(INSERT_CHUNK, rows - start)):
                job_id = str(uuid.uuid4())
                message = replace(template, id=job_id).with_lq(header.republished(uuid=job_id))
                record = FailureRecord.of(message, "RuntimeError: bench")
                batch.append({**record.to_dict(), "failed_at": failed_at})
            conn.execute(insert(failed_jobs), batch)


def raw_publish(rows: int) -> float:
    """The same number of messages, published by a plain send_task loop."""
    template = build_message(NoopJob(), "default", QUEUE, str(uuid.uuid4()))
    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for _ in range(rows):
            app.send_task(
                template.task,
                kwargs=template.kwargs,
                queue=QUEUE,
                headers=template.headers,
                ignore_result=True,
                producer=producer,
            )
    return time.perf_counter() - started


def retry_all(traced: bool) -> tuple[float, int, float]:
    """Seconds, rows retried, peak MiB allocated by Python (only when traced)."""
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    report = manager.failed.retry()
    seconds = time.perf_counter() - started
    peak = 0.0
    if traced:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, report.retried, peak


def rows(count: int) -> list[Row]:
    client = redis.Redis.from_url(BROKER)
    client.delete(QUEUE)
    raw_seconds = raw_publish(count)
    client.delete(QUEUE)

    fill(count)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds, retried, _ = retry_all(traced=False)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert retried == count and client.llen(QUEUE) == count, "not every row published"
    assert manager.failed.count() == 0
    client.delete(QUEUE)

    fill(count)
    _, _, peak = retry_all(traced=True)
    client.delete(QUEUE)
    return [
        Row(
            "failed:retry all vs a send_task loop",
            "rows/s",
            [count / seconds],
            [count / raw_seconds],
            baseline="send_task loop",
            note=(
                f"{count:,} rows in {manager.mask(manager.database_url)}; peak Python "
                f"allocations {peak:.1f} MiB (tracemalloc, second pass), peak RSS growth "
                f"{max(0.0, rss_after - rss_before):.1f} MiB"
            ),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    report_arguments(parser)
    args = parser.parse_args()
    title = f"failed:retry all, {args.rows:,} rows, store {manager.mask(manager.database_url)}"
    report(title, rows(args.rows), args.json)


if __name__ == "__main__":
    main()

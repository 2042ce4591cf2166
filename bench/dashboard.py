"""The dashboard's failed-jobs page over 100,000 rows: server time of the first page, a
search for rare and common text, by class, by tag, and a page deep in the table.

    .venv/bin/python bench/dashboard.py [--rows 100000] [--rounds 5]

On SQLite (a file of its own) and on PostgreSQL (a database of its own on 127.0.0.1:5432,
dropped afterwards; skipped when none answers). Each request goes through the whole ASGI
app in this process (Starlette's test client), so the time is the server's: routing, the
query, the rendering. Target: under 200 ms each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from celery import Celery
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import use_private_broker  # noqa: E402

BROKER = use_private_broker()

from starlette.testclient import TestClient  # noqa: E402

from bench.measure import Row, report, report_arguments  # noqa: E402
from laravel_queue import Job, QueueManager  # noqa: E402
from laravel_queue.dashboard import app  # noqa: E402
from laravel_queue.db.schema import failed_jobs, lq_failed_job_tags  # noqa: E402
from laravel_queue.jobs.serialization import build_message  # noqa: E402
from laravel_queue.messages.records import FailureRecord  # noqa: E402

TARGET_MS = 200.0
INSERT_CHUNK = 1000
CLASSES = [f"shop.jobs.Job{n:02d}" for n in range(10)]
REASONS = [
    "ValueError: card {n} declined",
    "TimeoutError: the payment gateway did not answer within 30 s",
    "KeyError: 'customer_{n}'",
    "ConnectionError: mail server refused the connection",
    "RuntimeError: stock for sku-{n} went negative",
]
TRACEBACK = "".join(
    f'  File "/srv/shop/jobs/module_{n}.py", line {n * 7}, in handle\n'
    f"    result = self.gateway.call(order, attempt={n})\n"
    for n in range(12)
)
RARE = "needle-4f2a9c"


class Charges(Job):
    """What each row's message carries: a customer and an order, tagged."""

    def __init__(self, customer: int, order: int) -> None:
        self.customer = customer
        self.order = order

    def tags(self) -> list[str]:
        return [f"Customer:{self.customer}", f"Order:{self.order}"]


def fill(manager: QueueManager, rows: int) -> None:
    """`rows` failures written 1,000 per statement, with the tag rows the repository writes
    beside each; then PostgreSQL's statistics, as autovacuum keeps them (it plans the
    searches from them)."""
    manager.ensure_schema()
    failed_at = datetime.now(timezone.utc).replace(tzinfo=None)
    with manager.engine.begin() as conn:
        for start in range(0, rows, INSERT_CHUNK):
            chunk = []
            tags = []
            for n in range(start, min(start + INSERT_CHUNK, rows)):
                job_id = str(uuid.uuid4())
                message = build_message(Charges(n % 1000, n), "default", "default", job_id)
                header = message.lq
                assert header is not None
                shown = replace(header, display_name=CLASSES[n % len(CLASSES)])
                why = RARE if n == rows // 3 else REASONS[n % len(REASONS)].format(n=n)
                exception = f"Traceback (most recent call last):\n{TRACEBACK}{why}"
                record = FailureRecord.of(message.with_lq(shown), exception)
                chunk.append({**record.to_dict(), "id": n + 1, "failed_at": failed_at})
                tags += [{"tag": tag, "failed_job_id": n + 1} for tag in header.tags or []]
            conn.execute(insert(failed_jobs), chunk)
            conn.execute(insert(lq_failed_job_tags), tags)
    if manager.engine.dialect.name == "postgresql":
        with manager.engine.begin() as conn:
            conn.execute(text("ANALYZE failed_jobs"))


def timed(client: TestClient, path: str, params: dict[str, str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    return samples


def measure(name: str, database_url: str, rows: int, rounds: int) -> list[Row]:
    celery = Celery("bench-dashboard", broker=BROKER, set_as_current=False)
    manager = QueueManager(celery, database_url=database_url, cache_url=BROKER)
    started = time.perf_counter()
    fill(manager, rows)
    print(f"{name}: {rows:,} rows written in {time.perf_counter() - started:.0f} s", flush=True)
    client = TestClient(app(manager), client=("127.0.0.1", 50000))
    deep = str(rows // 2)  # ids run from 1 in a fresh table
    cases = {
        "first page": {},
        f"search, 1 row matches ({RARE})": {"q": RARE},
        "search, 1 row in 5 matches (declined)": {"q": "declined"},
        "by class (1 row in 10)": {"job": CLASSES[3]},
        "by tag (1 row in 1,000)": {"tag": "Customer:77"},
        "a page half-way down (before=)": {"before": deep},
    }
    found = []
    timed(client, "/failed", {}, 2)  # warm: the first query loads the driver and the plan
    for label, params in cases.items():
        found.append(
            Row(
                f"{name}: /failed, {label}",
                "ms",
                timed(client, "/failed", params, rounds),
                at_most=TARGET_MS,
            )
        )
    manager.engine.dispose()
    return found


@contextmanager
def postgres() -> Iterator[str | None]:
    try:
        import psycopg

        admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True)
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}")
        yield None
        return
    name = f"lq_bench_dashboard_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    report_arguments(parser)
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        sqlite = f"sqlite:///{os.path.join(scratch, 'dashboard.sqlite')}"
        rows += measure("SQLite", sqlite, args.rows, args.rounds)
    with postgres() as url:
        if url is not None:
            rows += measure("PostgreSQL", url, args.rows, args.rounds)
    title = (
        f"The failed-jobs page over {args.rows:,} rows: server time per request "
        f"(median of {args.rounds}, min-max), through the whole ASGI app."
    )
    report(title, rows, args.json)
    print(f"slowest median: {max(statistics.median(r.ours) for r in rows):.1f} ms")


if __name__ == "__main__":
    main()

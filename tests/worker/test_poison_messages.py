"""No message can stop a worker: hostile messages end in failed_jobs, good jobs keep flowing.

A real `lq work -c 2` process on Redis takes good jobs interleaved with messages of every
shape Celery's own consumer chokes on; the worker must stay up the whole time, run every good
job, record every bad message with its reason and raw bytes, and every recorded row must be
readable by `lq failed`, `lq failed --json` and `lq failed:show`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from kombu import Connection, Exchange, Producer

from laravel_queue import QueueManager

from .. import jobs
from ..cli.support import run_lq
from ..support import ServiceUrls, lines, lq_running, wait_until

# (id header, body, publish options): each is valid JSON Kombu delivers, but not a task
# message Celery's `Request` can take.
HOSTILE: list[tuple[Any, Any, dict[str, Any]]] = [
    ("null-body", None, {}),
    ("int-body", 5, {}),
    ("str-body", "hello", {}),
    ("three-letters", "abc", {}),  # unpacks into args="a", kwargs="b", embed="c"
    ("two-items", [[], {}], {}),
    ("kwargs-list", [[], [], {}], {}),
    ("embed-str", [[], {}, "x"], {}),
    ("args-dict", [{}, {}, {}], {}),
    (7, [[], {}, {}], {}),  # id header not a string
    ("text-plain", b"\xff\xfe not json", {"content_type": "text/plain"}),
    ("yaml", b"- 1\n- 2\n", {"content_type": "application/x-yaml"}),
]


# Redis list entries that are not Kombu envelopes at all, pushed by something else.
NOT_ENVELOPES = [
    b"not json",
    b'{"raw": "json"}',
    b"[1, 2]",
    b'{"properties": 5}',
    b'{"body": "%%% not base64", "headers": {}, "content-type": "application/json", '
    b'"content-encoding": "utf-8", "properties": {"delivery_tag": "bad-b64", '
    b'"body_encoding": "base64", "delivery_info": {"exchange": "default", '
    b'"routing_key": "default"}}}',
]


def publish(app: Celery, task: Any, message_id: Any, body: Any, options: dict[str, Any]) -> None:
    with Connection(app.conf.broker_url) as conn:
        producer = Producer(
            conn.channel(), exchange=Exchange("default", type="direct"), routing_key="default"
        )
        extra = {"content_encoding": "binary"} if isinstance(body, bytes) else {}
        producer.publish(
            body,
            declare=[app.amqp.queues["default"]],
            headers={"task": task, "id": message_id},
            serializer=None if isinstance(body, bytes) else "json",
            **extra,
            **options,
        )


def test_hostile_messages_are_recorded_and_the_worker_never_stops(
    redis_urls: ServiceUrls, trace: Path, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'store.sqlite'}"
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=database, cache_url=redis_urls.cache)
    for n, (message_id, body, options) in enumerate(HOSTILE):
        jobs.Traced.dispatch(str(trace), f"good-{n}")
        publish(app, "tests.jobs.Traced", message_id, body, options)
    publish(app, ["tests.jobs.Traced"], "task-list", [[], {}, {}], {})  # task header not a str
    broker = redis.Redis.from_url(redis_urls.broker)
    for entry in NOT_ENVELOPES:
        broker.lpush("default", entry)
        jobs.Traced.dispatch(str(trace), f"after {entry[:8]!r}")
    jobs.Traced.dispatch(str(trace), "last")
    bad = len(HOSTILE) + 1 + len(NOT_ENVELOPES)
    good = len(HOSTILE) + len(NOT_ENVELOPES) + 1
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": database,
    }
    args = ("--app", "tests.apps", "work", "--sleep", "0.1", "--concurrency", "2")
    with lq_running(*args, env=env) as worker:
        wait_until(lambda: len(lines(trace)) == good, timeout=60)
        wait_until(lambda: manager.failed.count() == bad, timeout=30)
        assert worker.process.poll() is None, "".join(worker.output)
    output = "".join(worker.output)
    assert "Unrecoverable error" not in output, output

    rows = {row.uuid: row for row in manager.failed.all()}
    unreadable = [row for row in rows.values() if "not a Kombu message" in row.exception]
    assert sorted(base64.b64decode(row.headers["lq_raw_body"]["base64"]) for row in unreadable) == (
        sorted(NOT_ENVELOPES)
    )
    assert set(rows) - {row.uuid for row in unreadable} == {str(m) for m, _, _ in HOSTILE} | {
        "task-list"
    }
    assert "not Celery's [args, kwargs, embed]" in rows["null-body"].exception
    assert "id header is missing or not a string" in rows["7"].exception
    assert "task header is not a name" in rows["task-list"].exception
    raw = rows["text-plain"].payload["headers"]["lq_raw_body"]
    assert raw["content_type"] == "text/plain"

    listed = run_lq(manager, "failed")
    assert listed.exit_code == 0, listed.output
    as_json = run_lq(manager, "failed", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert len([json.loads(line) for line in as_json.output.splitlines()]) == len(rows)
    for row in rows.values():
        shown = run_lq(manager, "failed:show", str(row.id))
        assert shown.exit_code == 0, (row.uuid, shown.output)

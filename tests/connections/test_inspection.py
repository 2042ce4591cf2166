"""`Queue.pending/delayed/reserved` and `lq queue:jobs` (Laravel 13's queue inspection): the
jobs of a queue, read where they are, on Redis and the embedded SQLite default; RabbitMQ says
what AMQP cannot show."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from laravel_queue import Queue, QueueManager
from laravel_queue.exceptions import NotInspectableError
from laravel_queue.messages.inspected import UNREADABLE

from .. import jobs
from ..cli.support import run_lq
from ..support import ServiceUrls, lines, wait_until, worker


@pytest.fixture(params=["redis", "kombu-redis", "sqlite"])
def manager(request: pytest.FixtureRequest) -> QueueManager:
    """Our Redis fetch, Kombu's own (`reliable_fetch` off), and the embedded SQLite default."""
    fixture = "sqlite_manager" if request.param == "sqlite" else "redis_manager"
    found: QueueManager = request.getfixturevalue(fixture)
    if request.param == "kombu-redis":
        found.app.conf.broker_transport_options = {"reliable_fetch": False}
        found.app.conf.broker_transport = None
        with found.app.connection_for_read() as conn:
            assert type(conn.default_channel).__module__ == "kombu.transport.redis"
    return found


def test_pending_and_delayed_jobs_are_listed_in_order_without_taking_them(
    manager: QueueManager, trace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LQ_ENCRYPTION_KEY", Fernet.generate_key().decode())
    first = jobs.Traced(str(trace), "first").dispatch()
    secret = jobs.ChargesCard(str(trace), "card", "4242").dispatch()
    later = jobs.Traced(str(trace), "later").delay(60).dispatch()
    pending = Queue.pending()
    assert [job.uuid for job in pending] == [first, secret]
    assert pending[0].name == "tests.jobs.Traced" and pending[0].attempts == 0
    assert pending[0].payload is not None and pending[0].payload["name"] == "first"
    assert pending[1].payload is None  # encrypted: never shown
    assert pending[0].pushed_at is not None and abs(pending[0].pushed_at - time.time()) < 30
    delayed = Queue.delayed()
    assert [job.uuid for job in delayed] == [later]
    assert delayed[0].available_at is not None and delayed[0].available_at > time.time() + 50
    assert Queue.pending(limit=1)[0].uuid == first
    assert Queue.size() == 3  # nothing was taken


def test_a_job_a_worker_runs_is_reserved(manager: QueueManager, trace: Path) -> None:
    job_id = jobs.UntilCancelled(str(trace), "long").dispatch()
    with worker(manager):
        wait_until(lambda: lines(trace) == ["long started"])
        assert [job.uuid for job in Queue.reserved()] == [job_id]
        assert Queue.pending() == []
        Queue.cancel(str(job_id))
        wait_until(lambda: Queue.reserved() == [])


def test_an_unreadable_entry_is_listed_as_such_before_the_good_ones(
    redis_manager: QueueManager, redis_urls: ServiceUrls, trace: Path
) -> None:
    job_id = jobs.Traced(str(trace), "good").dispatch()
    redis.Redis.from_url(redis_urls.broker).rpush("default", b"not a message")  # taken next
    listed = Queue.pending()
    assert [job.name for job in listed] == [UNREADABLE, "tests.jobs.Traced"]
    assert listed[1].uuid == job_id


def test_rabbitmq_cannot_list_pending_jobs_but_lists_delayed_ones(
    rabbit_manager: QueueManager, trace: Path
) -> None:
    later = jobs.Traced(str(trace), "later").delay(60).dispatch()
    with pytest.raises(NotInspectableError, match="AMQP has no browsing"):
        Queue.pending()
    assert [job.uuid for job in Queue.delayed()] == [later]
    said = run_lq(rabbit_manager, "queue:jobs", "default")
    assert said.exit_code == 1 and "cannot show queued messages" in said.output


def test_queue_jobs_prints_a_table_and_json(manager: QueueManager, trace: Path) -> None:
    later = jobs.Traced(str(trace), "later").delay(60).dispatch()
    said = run_lq(manager, "queue:jobs", "default", "--state", "delayed", "--json")
    assert said.exit_code == 0, said.output
    [listed] = json.loads(said.output)
    assert listed["uuid"] == later and listed["name"] == "tests.jobs.Traced"
    table = run_lq(manager, "queue:jobs", "--state", "delayed")
    assert table.exit_code == 0 and str(later) in table.output  # whole, in 80 columns
    assert "No pending jobs on" in run_lq(manager, "queue:jobs").output

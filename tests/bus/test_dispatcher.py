"""Dispatching and the Queue facade (DESIGN §3.3; Laravel semantics §1.1)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from laravel_queue import Queue, QueueConnectionError, QueueManager, events
from laravel_queue.exceptions import JobEncodeError

from .. import jobs
from ..support import lines, publish_raw, wait_until, worker


def test_an_unencodable_attribute_fails_the_dispatch_and_queues_nothing(
    redis_manager: QueueManager, trace: Path
) -> None:
    job = jobs.RichState(str(trace), lock=object())
    with pytest.raises(JobEncodeError, match=r"RichState\.values\['lock'\] is a object"):
        job.dispatch()
    assert Queue.size() == 0


def test_an_unreachable_broker_raises_with_the_password_masked(lq_home: Path) -> None:
    app = Celery("down", broker="redis://:s3cret@127.0.0.1:1/0", set_as_current=False)
    app.conf.broker_transport_options = {"max_retries": 1}
    QueueManager(app, cache_url="memory://")
    with pytest.raises(QueueConnectionError) as error:
        jobs.Traced.dispatch("unused")
    assert "127.0.0.1:1" in str(error.value)
    assert "s3cret" not in str(error.value)
    assert "***" in str(error.value)


def test_a_two_hour_delay_waits_in_the_delayed_set_not_in_a_worker(
    redis_manager: QueueManager, trace: Path
) -> None:
    jobs.Traced(str(trace)).delay(timedelta(hours=2)).dispatch()
    with worker(redis_manager):
        time.sleep(1.5)
        assert Queue.reserved_size() == 0
    assert lines(trace) == []
    assert (Queue.pending_size(), Queue.delayed_size(), Queue.size()) == (0, 1, 1)


def test_a_delayed_job_runs_once_it_is_due(manager: QueueManager, trace: Path) -> None:
    pushed = time.time()
    Queue.later(1, jobs.Traced(str(trace), "later"))
    with worker(manager):
        wait_until(lambda: lines(trace))
        ran = time.time()
    assert ran - pushed >= 1
    assert Queue.delayed_size() == 0


def test_bulk_queues_every_job_and_returns_their_ids(manager: QueueManager, trace: Path) -> None:
    ids = Queue.bulk([jobs.Traced(str(trace), f"b{n}") for n in range(20)])
    assert len(set(ids)) == 20
    # RabbitMQ counts a queue for another connection only once it has taken the publishes in
    wait_until(lambda: Queue.pending_size() == 20)
    with worker(manager):
        wait_until(lambda: len(lines(trace)) == 20)
    assert sorted(line.split()[2][3:] for line in lines(trace)) == sorted(ids)


def test_size_counts_pending_and_delayed_and_clear_removes_both(
    manager: QueueManager, trace: Path
) -> None:
    jobs.Traced.dispatch(str(trace))
    jobs.Traced(str(trace)).on_queue("other").dispatch()
    jobs.Traced(str(trace)).delay(60).dispatch()
    wait_until(lambda: Queue.size("other") == 1)  # RabbitMQ: the publishes taken in (above)
    assert (Queue.pending_size(), Queue.delayed_size(), Queue.size()) == (1, 1, 2)
    assert Queue.clear() == 2
    assert Queue.size() == 0
    assert Queue.size("other") == 1
    Queue.clear("other")


def test_dispatch_if_and_unless(redis_manager: QueueManager, trace: Path) -> None:
    assert jobs.Traced.dispatch_if(False, str(trace)) is None
    assert jobs.Traced.dispatch_unless(True, str(trace)) is None
    assert jobs.Traced.dispatch_if(lambda job: job.name == "job", str(trace))
    assert jobs.Traced(str(trace)).dispatch_unless(False)
    assert Queue.pending_size() == 2


def test_after_commit_pushes_on_commit_and_drops_on_rollback(
    redis_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/app.sqlite")
    with Session(engine) as session:
        session.execute(text("select 1"))
        kept = jobs.Traced(str(trace), "kept").after_commit(session).dispatch()
        assert Queue.pending_size() == 0
        session.commit()
        assert Queue.pending_size() == 1
        session.execute(text("select 1"))
        jobs.Traced(str(trace), "dropped").after_commit(session).dispatch()
        session.rollback()
        session.execute(text("select 1"))
        session.commit()
    assert Queue.pending_size() == 1
    with worker(redis_manager):
        wait_until(lambda: lines(trace))
    assert lines(trace) == [f"kept attempt=1 id={kept}"]


def test_dispatch_sync_runs_the_pipeline_in_process_and_raises_the_first_exception(
    redis_manager: QueueManager, trace: Path
) -> None:
    jobs.WithMiddleware.dispatch_sync(str(trace))
    assert lines(trace)[0] == "before outer"
    with pytest.raises(ValueError, match="always fails"):
        jobs.AlwaysFails.dispatch_sync(str(trace), "sync")
    assert lines(trace)[-2].startswith("sync attempt=1 id=")
    assert lines(trace)[-1] == "sync failed=ValueError fresh=True"
    assert redis_manager.failed.all() == []  # Laravel's sync driver stores no failures
    assert Queue.size() == 0


def test_a_sync_connection_runs_pushed_jobs_at_once(lq_home: Path, trace: Path) -> None:
    manager = QueueManager(cache_url="memory://", connections={"now": "sync"})
    job_id = manager.connection("now").push(jobs.Traced(str(trace), "now"))
    assert lines(trace) == [f"now attempt=1 id={job_id}"]


def test_an_unregistered_task_ends_in_failed_jobs(redis_manager: QueueManager) -> None:
    redis_manager.app.send_task(
        "shop.jobs.Gone", kwargs={"a": 1}, queue="default", task_id="gone-1"
    )
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.all())
    [row] = redis_manager.failed.all()
    assert row.uuid == "gone-1"
    assert "no task named 'shop.jobs.Gone' is registered" in row.exception
    assert row.payload["kwargs"] == {"a": 1}


def test_a_pickled_message_is_refused_and_recorded(
    redis_manager: QueueManager, trace: Path
) -> None:
    publish_raw(
        redis_manager.app,
        [[], {"trace": str(trace)}, {}],
        {"task": "tests.jobs.Traced", "id": "pickled"},
        serializer="pickle",
    )
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.all())
    [row] = redis_manager.failed.all()
    assert "accepts JSON only (pickle is never accepted)" in row.exception
    assert row.payload["headers"]["lq_raw_body"]["content_type"] == "application/x-python-serialize"
    assert lines(trace) == []


def test_a_job_sent_with_plain_celery_follows_its_class_rules(
    redis_manager: QueueManager, trace: Path
) -> None:
    redis_manager.app.send_task(
        "tests.jobs.AlwaysFails",
        kwargs={"trace": str(trace), "name": "plain"},
        queue="default",
        task_id="plain-1",
    )
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.all(), timeout=30)
    assert [line.split()[1] for line in lines(trace)] == [
        "attempt=1",
        "attempt=2",
        "failed=ValueError",
    ]


@pytest.mark.parametrize("broker", ["sqlite_manager", "redis_manager"])
def test_a_running_job_counts_as_reserved_until_it_is_acknowledged(
    request: pytest.FixtureRequest, broker: str, trace: Path
) -> None:
    request.getfixturevalue(broker)
    jobs.TakesAMoment.dispatch(str(trace), "slow", 2.0)
    with worker(request.getfixturevalue(broker)):
        wait_until(lambda: Queue.reserved_size() == 1)
        assert (Queue.pending_size(), Queue.size()) == (0, 1)
        wait_until(lambda: lines(trace), timeout=10)
        wait_until(lambda: Queue.size() == 0)


def test_prepare_for_dispatch_may_adjust_the_job_or_decline_it(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    """Laravel 13's PreparesForDispatch: a declined dispatch queues nothing, takes no unique
    lock and fires no event; `Queue.push` does not ask."""
    queued: list[object] = []
    Queue.listen(events.JobQueued, queued.append)
    try:
        check_preparing(trace, queued)
    finally:
        events.listeners.forget(events.JobQueued, queued.append)


def check_preparing(trace: Path, queued: list[object]) -> None:
    declined = jobs.PreparesItself(str(trace), "declined", 7)
    declined.decline = True
    assert declined.dispatch() is None
    assert Queue.size() == 0 and queued == []
    job_id = jobs.PreparesItself.dispatch(str(trace), "kept", 7)  # the lock was never taken
    assert job_id is not None
    [pending] = Queue.pending()
    assert pending.payload is not None and pending.payload["prepared_for"] == "account 7"
    pushed = jobs.PreparesItself(str(trace), "pushed", 8)
    pushed.decline = True
    Queue.push(pushed)
    assert Queue.size() == 2 and len(queued) == 2

"""A flood of messages the worker cannot run lands in failed_jobs; good jobs keep flowing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from laravel_queue import QueueManager
from laravel_queue.db.schema import failed_jobs

from .. import jobs
from ..support import lines, publish_raw, wait_until, worker


def test_a_thousand_undecodable_and_unknown_messages_are_recorded_with_reasons(
    redis_manager: QueueManager, trace: Path
) -> None:
    app = redis_manager.app
    for batch in range(2):
        for n in range(50):
            jobs.Traced.dispatch(str(trace), f"good{batch}-{n}")
        publish_raw(
            app,
            [[], {"trace": str(trace)}, {}],
            {"task": "tests.jobs.Traced", "id": f"pickled{batch}"},
            serializer="pickle",
            count=250,
        )
        publish_raw(
            app, [[], {"a": 1}, {}], {"task": "shop.jobs.Gone", "id": f"gone{batch}"}, count=250
        )
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1000, timeout=240, every=0.5)
        wait_until(lambda: len(lines(trace)) == 100)

    with redis_manager.engine.connect() as conn:
        reasons = dict(
            conn.execute(
                select(func.substr(failed_jobs.c.uuid, 1, 4), func.count()).group_by(
                    func.substr(failed_jobs.c.uuid, 1, 4)
                )
            ).all()
        )
    assert reasons == {"pick": 500, "gone": 500}
    pickled = redis_manager.failed.find("pickled0-0")
    gone = redis_manager.failed.find("gone1-249")
    assert pickled is not None and "pickle is never accepted" in pickled.exception
    assert gone is not None and "no task named 'shop.jobs.Gone'" in gone.exception
    assert gone.message.kwargs == {"a": 1}  # kept whole: replayable once the task exists

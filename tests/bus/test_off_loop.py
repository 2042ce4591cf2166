"""Dispatching from `async def` code: the push runs on a dispatch thread, with the caller's
context, while the event loop runs on."""

from __future__ import annotations

import asyncio
import contextvars
import statistics
import threading
import time
from pathlib import Path

from laravel_queue import Queue, QueueManager, events

from .. import jobs

REQUEST = contextvars.ContextVar("request", default="none")


def test_a_thousand_dispatches_from_concurrent_requests_leave_the_loop_free(
    redis_manager: QueueManager, trace: Path
) -> None:
    seen: list[tuple[str, str]] = []

    def queued(event: events.JobQueueing) -> None:
        seen.append((threading.current_thread().name, REQUEST.get()))

    Queue.listen(events.JobQueueing, queued)

    async def request(n: int) -> list[str | None]:
        REQUEST.set(f"request-{n}")
        return [await jobs.Traced(str(trace), f"r{n}-{i}").dispatch_async() for i in range(20)]

    async def main() -> tuple[list[list[str | None]], list[float]]:
        lateness: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:  # how late a 5 ms sleep wakes: the loop's lag
            while not done.is_set():
                start = time.perf_counter()
                await asyncio.sleep(0.005)
                lateness.append(time.perf_counter() - start - 0.005)

        ticking = asyncio.create_task(ticker())
        ids = await asyncio.gather(*(request(n) for n in range(50)))
        done.set()
        await ticking
        return ids, lateness

    ids, lateness = asyncio.run(main())
    flat = [job_id for batch in ids for job_id in batch]
    assert len(set(flat)) == 1000 and None not in flat
    assert Queue.size() == 1000
    assert {name.split("_")[0] for name, _ in seen} == {"lq-dispatch"}  # never the loop's
    assert {request for _, request in seen} == {f"request-{n}" for n in range(50)}
    print(
        f"loop lag over {len(lateness)} ticks: median {statistics.median(lateness) * 1000:.2f} "
        f"ms, max {max(lateness) * 1000:.2f} ms"
    )


def test_push_later_and_bulk_have_async_twins(redis_manager: QueueManager, trace: Path) -> None:
    async def main() -> list[str]:
        pushed = await Queue.push_async(jobs.Traced(str(trace), "pushed"), queue="other")
        later = await Queue.later_async(60, jobs.Traced(str(trace), "later"))
        bulk = await Queue.bulk_async(jobs.Traced(str(trace), f"b{n}") for n in range(3))
        return [pushed, later, *bulk]

    assert len(set(asyncio.run(main()))) == 5
    assert Queue.size("other") == 1 and Queue.size() == 4  # the delayed one counts

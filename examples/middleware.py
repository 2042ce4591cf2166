"""A rate limit and unique jobs on the embedded SQLite queue (no server needed).

python examples/middleware.py

Reports are unique per customer (a second dispatch is dropped while the first is queued) and
limited to 2 per second across every worker; a limited report waits its turn without
spending its single attempt (`count_attempt=False`).
"""

from __future__ import annotations

import time

from laravel_queue import Job, Limit, QueueManager, RateLimiter, ShouldBeUnique
from laravel_queue.middleware import Middleware, RateLimited
from laravel_queue.worker.run import run_worker
from laravel_queue.worker_options import WorkerOptions

RateLimiter.for_("reports", lambda job: Limit.per_second(2))


class BuildReport(Job, ShouldBeUnique):
    tries = 1

    def __init__(self, customer: str) -> None:
        self.customer = customer

    def unique_id(self) -> object:
        return self.customer

    def middleware(self) -> list[Middleware]:
        return [RateLimited("reports").release_after(0.5, count_attempt=False)]

    def handle(self) -> None:
        print(f"report for {self.customer} (attempt {self.attempts()})")


if __name__ == "__main__":
    manager = QueueManager()
    for customer in ("acme", "acme", "globex", "initech", "umbrella"):
        queued = BuildReport.dispatch(customer) is not None
        print(f"dispatch {customer}: {'queued' if queued else 'dropped, one is already queued'}")
    started = time.monotonic()
    options = WorkerOptions(pool="solo", stop_when_empty=True, wait_for_delayed=True, sleep=0.1)
    run_worker(manager, None, options, loglevel="CRITICAL", quiet=True)
    print(f"4 reports at 2 per second took over a second: {time.monotonic() - started > 1}")
    print(f"failed jobs: {manager.failed.count()}")

"""A rate limit and unique jobs on the embedded SQLite queue (no server needed).

python examples/middleware.py

Reports are unique per customer (a second dispatch is dropped while the first is queued) and
limited to 2 per second across every worker; a limited report waits its turn without
spending its single attempt (`count_attempt=False`). The job is `shop_jobs.BuildReport`.
"""

from __future__ import annotations

import time

from shop_jobs import BuildReport

from laravel_queue import QueueManager
from laravel_queue.worker import WorkerOptions, run_worker

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

"""tries, backoff, failed() and the failed_jobs table, on the embedded SQLite queue.

python examples/retries_and_failures.py
"""

from __future__ import annotations

from shop_jobs import ChargeCard

from laravel_queue import QueueManager
from laravel_queue.worker import WorkerOptions, run_worker

if __name__ == "__main__":
    manager = QueueManager()
    job_id = ChargeCard.dispatch(7)
    options = WorkerOptions(pool="solo", stop_when_empty=True, wait_for_delayed=True, sleep=0.1)
    run_worker(manager, None, options, loglevel="CRITICAL", quiet=True)
    row = manager.failed.find(job_id)
    assert row is not None
    print(f"failed_jobs row {row.id}: {row.name} -> {row.exception.splitlines()[-1]}")

"""tries, backoff, failed() and the failed_jobs table, on the embedded SQLite queue.

python examples/retries_and_failures.py
"""

from __future__ import annotations

from laravel_queue import Job, QueueManager
from laravel_queue.worker.run import run_worker
from laravel_queue.worker_options import WorkerOptions


class ChargeCard(Job):
    tries = 3
    backoff = [1, 2]  # 1 s after the first failure, then 2 s

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id

    def handle(self) -> None:
        raise RuntimeError(f"card for order {self.order_id} declined")

    def failed(self, exc: BaseException) -> None:
        print(f"failed() for order {self.order_id}: {exc}")


if __name__ == "__main__":
    manager = QueueManager()
    job_id = ChargeCard.dispatch(7)
    options = WorkerOptions(pool="solo", stop_when_empty=True, wait_for_delayed=True, sleep=0.1)
    run_worker(manager, None, options, loglevel="CRITICAL", quiet=True)
    row = manager.failed.find(job_id)
    assert row is not None
    print(f"failed_jobs row {row.id}: {row.name} -> {row.exception.splitlines()[-1]}")

"""`lq work`: a Celery worker with Laravel's worker options and defaults.

`run_worker(manager, connection, WorkerOptions(...))` runs one in the calling process, as
`lq work` does (the examples use it to run a worker beside the jobs they dispatch);
`LqWorker` is the in-thread worker of the `lq_worker` pytest fixture.
"""

from laravel_queue.jobs.options import WorkerOptions
from laravel_queue.worker.in_process import LqWorker
from laravel_queue.worker.run import run_worker

__all__ = ["LqWorker", "WorkerOptions", "run_worker"]

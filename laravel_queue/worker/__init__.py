"""`lq work`: a Celery worker with Laravel's worker options and defaults.

`run_worker(manager, connection, WorkerOptions(...))` runs one in the calling process, as
`lq work` does (the examples use it to run a worker beside the jobs they dispatch);
`LqWorker` is the in-thread worker of the `lq_worker` pytest fixture.
"""

from ..worker_options import WorkerOptions
from .in_process import LqWorker
from .run import run_worker

__all__ = ["LqWorker", "WorkerOptions", "run_worker"]

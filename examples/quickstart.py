"""Quickstart: a job, dispatched and run on the embedded SQLite queue (no server needed).

python examples/quickstart.py
"""

from __future__ import annotations

from shop_jobs import GREETINGS, Greet

from laravel_queue import QueueManager
from laravel_queue.worker import WorkerOptions, run_worker

if __name__ == "__main__":
    manager = QueueManager()  # one SQLite file in $LQ_HOME, else this project's folder
    for name in ("Ada", "Grace", "Linus"):
        Greet.dispatch(name)
    options = WorkerOptions(pool="solo", stop_when_empty=True, sleep=0.1)
    run_worker(manager, None, options, loglevel="ERROR", quiet=True)
    print(GREETINGS.read_text(), end="")

"""Quickstart: a job, dispatched and run on the embedded SQLite queue (no server needed).

python examples/quickstart.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from laravel_queue import Job, QueueManager
from laravel_queue.worker.run import run_worker
from laravel_queue.worker_options import WorkerOptions

OUT = Path(tempfile.mkdtemp()) / "greetings.txt"


class Greet(Job):
    tries = 3

    def __init__(self, name: str) -> None:
        self.name = name

    def handle(self) -> None:
        with OUT.open("a") as out:
            out.write(f"Hello, {self.name} (attempt {self.attempts()})\n")


if __name__ == "__main__":
    manager = QueueManager()  # one SQLite file in $LQ_HOME or the working directory
    for name in ("Ada", "Grace", "Linus"):
        Greet.dispatch(name)
    options = WorkerOptions(pool="solo", stop_when_empty=True, sleep=0.1)
    run_worker(manager, None, options, loglevel="ERROR", quiet=True)
    print(OUT.read_text(), end="")

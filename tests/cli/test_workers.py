"""`lq workers` keeps what tells workers apart whole, whatever the terminal's width."""

from __future__ import annotations

import time

import pytest

from laravel_queue import QueueManager
from laravel_queue.cli import workers as _workers  # noqa: F401 - registers the commands
from laravel_queue.worker.heartbeat import WorkerRegistry, WorkerStatus

from .support import run_lq

QUEUES = ["default", "high-priority-invoices", "low"]


@pytest.mark.parametrize("columns", ["80", "100", "160"])
def test_worker_names_and_queue_names_are_never_cut(
    sqlite_manager: QueueManager, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    """At 80 columns the queue list was folded mid-name (`default,hig`/`h-priority-`)."""
    monkeypatch.setenv("COLUMNS", columns)
    now = time.time()
    for name in ("invoices-worker-eu-west-1@app-server-17", "mail@app-server-18"):
        status = WorkerStatus(name, name.split("@")[1], 4242, QUEUES, "prefork", 4, 1, 9, now, now)
        WorkerRegistry(sqlite_manager.cache).beat(status)
    listed = run_lq(sqlite_manager, "workers").output
    words = listed.split()
    assert "invoices-worker-eu-west-1@app-server-17" in words, listed
    assert "mail@app-server-18" in words
    for queue in QUEUES:
        assert queue in listed.replace(",", " ").split(), listed
    assert listed.count("ok") == 2
    assert max(len(line.rstrip()) for line in listed.splitlines()) <= int(columns)

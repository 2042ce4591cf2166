"""`lq batches*` and their artisan names: the table, JSON, show, retry through failed_jobs,
prune, and an unknown ID."""

from __future__ import annotations

import json
import time
from pathlib import Path

from laravel_queue import Bus, QueueManager
from laravel_queue.cli import ARTISAN_NAMES

from .. import jobs
from ..support import lines, wait_until, worker
from .support import run_lq


def test_listing_and_showing_batches(sqlite_manager: QueueManager) -> None:
    assert run_lq(sqlite_manager, "batches").output.strip() == "No batches found."
    batch = Bus.batch([jobs.NoSettings("x"), jobs.NoSettings("y")]).name("import users").dispatch()
    table = run_lq(sqlite_manager, "batches")
    assert table.exit_code == 0 and batch.id in table.output and "running" in table.output
    row = json.loads(run_lq(sqlite_manager, "batches", "--json").output)
    assert (row["id"], row["total_jobs"], row["pending_jobs"], row["progress"]) == (
        batch.id,
        2,
        2,
        0,
    )
    shown = json.loads(run_lq(sqlite_manager, "batches:show", batch.id, "--json").output)
    assert shown["failed_job_ids"] == [] and shown["name"] == "import users"
    missing = run_lq(sqlite_manager, "batches:show", "nope")
    assert missing.exit_code == 1 and "No batch has the ID nope" in missing.output


def test_batches_retry_sends_the_failed_jobs_again_and_then_fires(
    sqlite_manager: QueueManager, trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "bug"
    flag.touch()
    t = str(trace)
    batch = (
        Bus.batch([jobs.FailsWhileFlagged(t, str(flag)), jobs.Traced(t, "ok")])
        .allow_failures()
        .dispatch()
    )
    with worker(sqlite_manager):
        wait_until(lambda: batch.fresh().failed_jobs == 1 and batch.fresh().pending_jobs == 1)
        flag.unlink()
        retried = run_lq(sqlite_manager, "queue:retry-batch", batch.id)
        assert retried.exit_code == 0, retried.output
        assert "Retried 1 failed job(s)" in retried.output
        wait_until(lambda: batch.fresh().pending_jobs == 0)
    assert batch.fresh().finished() and "flagged succeeded" in lines(trace)


def test_pruning_deletes_finished_batches(sqlite_manager: QueueManager) -> None:
    batch = Bus.batch([jobs.NoSettings("x")]).dispatch()
    batch.cancel()  # finished now
    assert "0 batch(es) pruned" in run_lq(sqlite_manager, "batches:prune").output
    time.sleep(1.1)  # finished before the current second
    pruned = run_lq(sqlite_manager, "queue:prune-batches", "--hours", "0")
    assert "1 batch(es) pruned" in pruned.output and Bus.find_batch(batch.id) is None


def test_artisan_names_of_the_batch_commands() -> None:
    assert ARTISAN_NAMES["queue:batches"] == "batches"
    assert ARTISAN_NAMES["queue:retry-batch"] == "batches:retry"
    assert ARTISAN_NAMES["queue:prune-batches"] == "batches:prune"

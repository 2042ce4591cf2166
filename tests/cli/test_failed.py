"""`lq failed*`: tables, JSON, exit codes, retry with progress, a database that is down."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from laravel_queue import QueueManager
from laravel_queue.db.schema import failed_jobs
from laravel_queue.messages.payload import RAW_BODY_HEADER, JobMessage

from .. import jobs
from ..support import wait_until, worker
from .support import run_lq


def fail(manager: QueueManager, uuid: str, queue: str = "default", **headers: object) -> None:
    message = JobMessage(
        task="tests.jobs.Traced",
        id=uuid,
        kwargs={"trace": "/dev/null", "name": uuid},
        queue=queue,
        connection="default",
        headers=dict(headers),
    )
    try:
        raise ValueError(f"card {uuid} declined")
    except ValueError as exc:
        manager.failed.log(message, exc)


def test_listing_shows_a_table_or_json_lines(sqlite_manager: QueueManager) -> None:
    assert run_lq(sqlite_manager, "failed").output.strip() == "No failed jobs found."
    fail(sqlite_manager, "a", queue="high")
    fail(sqlite_manager, "b")
    table = run_lq(sqlite_manager, "failed")
    assert table.exit_code == 0 and "ValueError" in table.output and "app" not in table.output
    listed = run_lq(sqlite_manager, "failed", "--json").output
    rows = [json.loads(line) for line in listed.splitlines()]
    assert [row["uuid"] for row in rows] == ["b", "a"]
    assert rows[0]["exception"] == "ValueError: card b declined"
    only_high = run_lq(sqlite_manager, "failed", "--json", "--queue", "high").output
    assert [json.loads(line)["uuid"] for line in only_high.splitlines()] == ["a"]
    assert len(run_lq(sqlite_manager, "failed", "--json", "--limit", "1").output.splitlines()) == 1


def test_text_that_looks_like_markup_is_printed_as_it_is(sqlite_manager: QueueManager) -> None:
    fail(sqlite_manager, "[red]x[/red] [bold")
    assert "[red]x[/red] [bold" in run_lq(sqlite_manager, "failed:show", "1").output
    assert run_lq(sqlite_manager, "failed").exit_code == 0


def test_show_prints_state_message_and_traceback(sqlite_manager: QueueManager) -> None:
    fail(sqlite_manager, "a")
    shown = run_lq(sqlite_manager, "failed:show", "a")
    assert shown.exit_code == 0
    assert "Traceback (most recent call last)" in shown.output
    assert "'name': 'a'" in shown.output  # the job's state, decoded
    as_json = json.loads(run_lq(sqlite_manager, "failed:show", "1", "--json").output)
    assert as_json["payload"]["task"] == "tests.jobs.Traced"
    missing = run_lq(sqlite_manager, "failed:show", "nope")
    assert missing.exit_code == 1 and "No failed job matches the ID nope" in missing.output


def test_forget_flush_and_prune(sqlite_manager: QueueManager) -> None:
    for uuid in "abc":
        fail(sqlite_manager, uuid)
    assert run_lq(sqlite_manager, "failed:forget", "a").exit_code == 0
    assert run_lq(sqlite_manager, "failed:forget", "a").exit_code == 1
    assert "Pruned 0" in run_lq(sqlite_manager, "failed:prune", "--hours", "1").output
    assert "Deleted 0" in run_lq(sqlite_manager, "failed:flush", "--hours", "1", "--force").output
    refused = run_lq(sqlite_manager, "failed:flush")  # asks first; no terminal to ask on
    assert refused.exit_code == 2 and sqlite_manager.failed.count() == 2
    assert "--force" in refused.output
    assert "Deleted 2" in run_lq(sqlite_manager, "failed:flush", "--force").output


def test_retry_all_of_a_queue_publishes_and_deletes(sqlite_manager: QueueManager) -> None:
    for n in range(3):
        fail(sqlite_manager, f"high{n}", queue="high")
    fail(sqlite_manager, "low0", queue="low")
    result = run_lq(sqlite_manager, "failed:retry", "all", "--queue", "high")
    assert result.exit_code == 0, result.output
    assert "Retried 3 failed job(s)." in result.output
    assert [job.uuid for job in sqlite_manager.failed.all()] == ["low0"]
    assert sqlite_manager.connection().pending_size("high") == 3


def test_retry_reports_unknown_ids_and_unreplayable_rows(sqlite_manager: QueueManager) -> None:
    fail(sqlite_manager, "ok")
    raw = {"content_type": "application/x-python-serialize", "base64": "gAR9lC4="}
    fail(sqlite_manager, "pickled", **{RAW_BODY_HEADER: raw})
    result = run_lq(sqlite_manager, "failed:retry", "ok", "pickled", "999")
    assert result.exit_code == 1
    assert "Retried 1 failed job(s)." in result.output
    assert "No failed job matches the ID 999." in result.output
    assert "could not be decoded (application/x-python-serialize)" in result.output
    assert [job.uuid for job in sqlite_manager.failed.all()] == ["pickled"]  # kept


def test_a_database_that_is_down_exits_with_code_3(tmp_path: Path) -> None:
    manager = QueueManager(database_url=f"sqlite:///{tmp_path}/missing/dir/store.sqlite")
    result = run_lq(manager, "failed")
    assert result.exit_code == 3
    assert "Cannot reach the failed-jobs database" in result.output


HOSTILE_PAYLOADS = [
    "not json at all",
    '"a string"',
    "5",
    "null",
    '{"headers": "x"}',
    '{"headers": {"lq": "junk"}, "task": "t"}',
    '{"headers": {"lq": {"display_name": 5}}, "kwargs": [1, 2]}',
    '{"task": "t", "id": "i", "queue": "q", "connection": "c", "kwargs": {"a": {"__lq__": 1}}}',
    '{"task": "t", "headers": {"lq_raw_body": "not an object"}}',
]


def test_every_stored_row_can_be_listed_shown_and_refused(sqlite_manager: QueueManager) -> None:
    """Rows recorded from hostile messages (or written by hand) never crash a command."""
    sqlite_manager.ensure_schema()
    with sqlite_manager.engine.begin() as conn:
        for n, payload in enumerate(HOSTILE_PAYLOADS):
            conn.execute(
                insert(failed_jobs).values(
                    uuid=f"h{n}",
                    connection="default",
                    queue="default",
                    payload=payload,
                    exception="",
                    failed_at=datetime(2026, 1, 1),
                )
            )
    assert run_lq(sqlite_manager, "failed").exit_code == 0
    listed = run_lq(sqlite_manager, "failed", "--json")
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == len(HOSTILE_PAYLOADS)
    for n in range(len(HOSTILE_PAYLOADS)):
        shown = run_lq(sqlite_manager, "failed:show", f"h{n}")
        assert shown.exit_code == 0, (n, shown.output)
        assert run_lq(sqlite_manager, "failed:show", f"h{n}", "--json").exit_code == 0
    retried = run_lq(sqlite_manager, "failed:retry", "all")
    assert retried.exit_code == 1, retried.output  # refused, each with its reason
    assert "was not retried" in retried.output and "Traceback" not in retried.output


@pytest.mark.parametrize("columns", ["60", "80", "100", "200"])
def test_what_identifies_a_failure_stays_whole_at_any_width(
    sqlite_manager: QueueManager, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    """At 100 columns the exception showed as `laravel_queue.except…`; at 80 the header was
    gone and a row's fields wrapped."""
    monkeypatch.setenv("COLUMNS", columns)
    name = "billing.jobs.ChargeCustomerForSubscriptionRenewal"
    message = JobMessage(task=name, id="u1", kwargs={}, queue="invoices", connection="default")
    exception = "laravel_queue.exceptions.MaxAttemptsExceededError: " + "too many times " * 20
    sqlite_manager.failed.log(message, exception)
    listed = run_lq(sqlite_manager, "failed").output
    assert name in listed and "invoices" in listed, listed
    assert "Job" in listed and "Failed at" in listed  # a header, at any width
    assert "MaxAttemptsExcee" in listed and "laravel_queue" not in listed  # no module path
    failed_at = json.loads(run_lq(sqlite_manager, "failed", "--json").output)["failed_at"]
    assert failed_at in listed
    assert "…" in listed  # the exception gave way
    assert max(len(line) for line in listed.splitlines()) <= int(columns)


def test_show_prints_a_plain_task_s_arguments(sqlite_manager: QueueManager) -> None:
    message = JobMessage(
        task="shop.tasks.add", id="p1", args=[7], kwargs={"y": 1}, queue="q", connection="default"
    )
    sqlite_manager.failed.log(message, "ValueError: no")
    shown = run_lq(sqlite_manager, "failed:show", "p1").output
    assert "Arguments" in shown and "'args': [7]" in shown and "'y': 1" in shown


def test_show_says_how_many_attempts_and_exceptions_the_job_had_in_the_end(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    """It showed `"attempts": 1, "exceptions": 0` for a job that raised on both of its two
    tries: the header as last queued, not how the job ended."""
    job_id = jobs.AlwaysFails.dispatch(str(trace), "twice")  # tries = 2
    with worker(sqlite_manager):
        wait_until(lambda: sqlite_manager.failed.count() == 1)
    shown = json.loads(run_lq(sqlite_manager, "failed:show", job_id, "--json").output)
    header = shown["payload"]["headers"]["lq"]
    assert (header["attempts"], header["exceptions"]) == (2, 2)
    text = run_lq(sqlite_manager, "failed:show", job_id).output
    assert "attempts    2 (tries=2)" in text and "exceptions  2" in text

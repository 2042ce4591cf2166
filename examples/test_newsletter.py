"""Tests of examples/newsletter.py with the testing kit only: fakes for unit tests, a real
worker for the integration test. Run by `make test` (`pytest examples`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from newsletter import SENT, AddToList, SendIssue, SendWelcome, send_issue, sign_up

from laravel_queue import QueueManager
from laravel_queue.testing import BusFake, QueueFake
from laravel_queue.worker import LqWorker


@pytest.fixture(autouse=True)
def app(lq_manager: QueueManager) -> QueueManager:
    """Every test on a manager of its own (the embedded default in a temporary directory)."""
    SENT.clear()
    return lq_manager


def test_sign_up_chains_the_welcome_before_the_list(bus_fake: BusFake, tmp_path: Path) -> None:
    sign_up("ada@example.com", str(tmp_path / "list.txt"))
    bus_fake.assert_chained([SendWelcome, AddToList])
    bus_fake.assert_dispatched(SendWelcome, lambda job: job.email == "ada@example.com")


def test_the_welcome_goes_to_the_mail_queue(queue_fake: QueueFake, tmp_path: Path) -> None:
    sign_up("ada@example.com", str(tmp_path / "list.txt"))
    queue_fake.assert_pushed_on("mail", SendWelcome)
    queue_fake.assert_pushed_with_chain(SendWelcome, [AddToList])


def test_an_issue_is_one_batch_with_a_job_per_subscriber(bus_fake: BusFake) -> None:
    send_issue(7, ["a@example.com", "b@example.com"])
    bus_fake.assert_batched(lambda batch: batch.batch_name == "issue 7" and len(batch.jobs) == 2)


def test_an_address_that_cannot_receive_mail_fails_the_welcome() -> None:
    job = SendWelcome("x@example.invalid").with_fake_queue_interactions()
    job.handle()
    job.assert_failed_with(ValueError)


def test_over_the_quota_the_issue_waits_a_minute() -> None:
    SENT.extend(["earlier"] * 1000)
    job = SendIssue("a@example.com", 7).with_fake_queue_interactions()
    job.handle()
    job.assert_released(delay=60)


@pytest.mark.lq_queues("default", "mail")
def test_signing_up_and_an_issue_run_for_real(lq_worker: LqWorker, tmp_path: Path) -> None:
    list_file = tmp_path / "list.txt"
    sign_up("ada@example.com", str(list_file))
    batch = send_issue(7, ["ada@example.com", "grace@example.com"])
    lq_worker.drain()
    assert list_file.read_text() == "ada@example.com\n"
    assert batch.fresh().pending_jobs == 0 and SENT[-1] == "issue 7: done"

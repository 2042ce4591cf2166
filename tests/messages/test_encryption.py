"""Encrypted jobs: nothing readable on the broker or in failed_jobs, key rotation, and clear
errors for a missing or wrong key (the job then fails at once, still encrypted)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from laravel_queue import Queue, QueueManager
from laravel_queue.exceptions import ConfigurationError

from .. import jobs
from ..support import ServiceUrls, lines, wait_until, worker

CARD = "4242-4242-4242-4242"
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("LQ_ENCRYPTION_KEY", OLD_KEY)
    monkeypatch.delenv("LQ_PREVIOUS_KEYS", raising=False)
    return monkeypatch


def test_the_state_is_encrypted_on_the_broker_and_decrypted_by_the_worker(
    redis_manager: QueueManager, redis_urls: ServiceUrls, trace: Path, keys: pytest.MonkeyPatch
) -> None:
    job_id = jobs.ChargesCard.dispatch(str(trace), "charge", CARD)
    [raw] = redis.Redis.from_url(redis_urls.broker).lrange("default", 0, -1)
    message = json.loads(raw)
    body = base64.b64decode(message["body"]).decode()
    _args, kwargs, _embed = json.loads(body)
    assert list(kwargs) == ["lq_encrypted"]
    for text in (body, raw.decode()):  # the body, and kwargsrepr in the headers
        assert CARD not in text and str(trace) not in text
    lq = message["headers"]["lq"]  # the metadata stays readable
    assert lq["display_name"] == "tests.jobs.ChargesCard" and lq["encrypted"] is True
    assert message["headers"]["task"] == "tests.jobs.ChargesCard"
    with worker(redis_manager):
        wait_until(lambda: lines(trace))
    assert lines(trace) == [f"charge attempt=1 card={CARD}"]
    assert job_id is not None


def test_jobs_encrypted_with_a_previous_key_still_run_after_rotation(
    redis_manager: QueueManager, trace: Path, keys: pytest.MonkeyPatch
) -> None:
    jobs.ChargesCard.dispatch(str(trace), "before-rotation", CARD)
    keys.setenv("LQ_ENCRYPTION_KEY", NEW_KEY)
    keys.setenv("LQ_PREVIOUS_KEYS", f"{Fernet.generate_key().decode()}, {OLD_KEY}")
    jobs.ChargesCard.dispatch(str(trace), "after-rotation", CARD)
    with worker(redis_manager):
        wait_until(lambda: len(lines(trace)) == 2)
    assert sorted(line.split()[0] for line in lines(trace)) == ["after-rotation", "before-rotation"]


@pytest.mark.parametrize("worker_key", ["wrong", "missing"])
def test_a_job_the_worker_cannot_decrypt_fails_at_once_still_encrypted_and_retries_once_fixed(
    redis_manager: QueueManager, trace: Path, keys: pytest.MonkeyPatch, worker_key: str
) -> None:
    job_id = jobs.ChargesCard.dispatch(str(trace), "charge", CARD)
    if worker_key == "wrong":
        keys.setenv("LQ_ENCRYPTION_KEY", NEW_KEY)
    else:
        keys.delenv("LQ_ENCRYPTION_KEY")
    with worker(redis_manager):
        wait_until(lambda: redis_manager.failed.count() == 1)
    [row] = redis_manager.failed.all()
    assert row.uuid == job_id and "JobDecodeError: cannot decrypt the job" in row.exception
    assert ("LQ_PREVIOUS_KEYS" if worker_key == "wrong" else "is not set") in row.summary
    assert CARD not in json.dumps(row.payload) and list(row.message.kwargs) == ["lq_encrypted"]
    assert lines(trace) == []
    keys.setenv("LQ_ENCRYPTION_KEY", OLD_KEY)
    assert redis_manager.failed.retry([job_id]).retried == 1
    with worker(redis_manager):
        wait_until(lambda: lines(trace))
    assert lines(trace) == [f"charge attempt=1 card={CARD}"]


def test_dispatching_without_a_key_says_how_to_make_one(
    redis_manager: QueueManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LQ_ENCRYPTION_KEY", raising=False)
    with pytest.raises(ConfigurationError, match=r"LQ_ENCRYPTION_KEY is not set.*generate_key"):
        jobs.ChargesCard.dispatch("unused", "charge", CARD)
    monkeypatch.setenv("LQ_ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(ConfigurationError, match="LQ_ENCRYPTION_KEY holds a value that is not"):
        jobs.ChargesCard.dispatch("unused", "charge", CARD)
    assert Queue.size() == 0


def test_jobs_that_are_not_encrypted_are_left_alone(
    redis_manager: QueueManager, redis_urls: ServiceUrls, trace: Path
) -> None:
    jobs.Traced.dispatch(str(trace), "plain")
    [raw] = redis.Redis.from_url(redis_urls.broker).lrange("default", 0, -1)
    message = json.loads(raw)
    _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert kwargs == {"trace": str(trace), "name": "plain"}
    assert message["headers"]["lq"]["encrypted"] is False

"""The dashboard's addresses over real stores (SQLite, Redis): every page as HTML and JSON,
the actions, the gate, CSRF, read-only, headers, and what an encrypted job never shows."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Celery
from cryptography.fernet import Fernet
from starlette.requests import Request
from starlette.testclient import TestClient

from laravel_queue import Bus, Queue, QueueManager
from laravel_queue.dashboard import app
from laravel_queue.dashboard.security import CSRF_COOKIE, SECURITY_HEADERS
from laravel_queue.jobs.serialization import build_message

from .. import jobs
from ..cli.support import run_lq
from ..support import ServiceUrls

LOCAL = ("127.0.0.1", 50000)
PAGES = ["/", "/queues", "/workers", "/classes", "/failed", "/batches"]
Client = Callable[..., TestClient]


@pytest.fixture
def client(sqlite_manager: QueueManager) -> Client:
    def make(client: tuple[str, int] = LOCAL, **options: object) -> TestClient:
        return TestClient(app(sqlite_manager, **options), client=client)  # type: ignore[arg-type]

    return make


def token(client: TestClient) -> str:
    """What a browser has after its first page: the CSRF cookie, also written in its forms
    (a read-only dashboard has none)."""
    page = client.get("/queues")
    cookie = client.cookies[CSRF_COOKIE]
    assert f'name="_token" value="{cookie}"' in page.text or 'method="post"' not in page.text
    return cookie


def fail(manager: QueueManager, job: jobs.Traced, why: str) -> str:
    job_id = str(uuid.uuid4())
    message = build_message(job, "default", "default", job_id)
    manager.failed.log(message, why)
    return job_id


def test_every_page_answers_html_and_its_data_as_json(client: Client) -> None:
    browser = client()
    for path in PAGES:
        page = browser.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert 'id="live"' in page.text  # the part that refreshes itself
        data = browser.get(path, headers={"accept": "application/json"})
        assert data.status_code == 200 and isinstance(data.json(), dict), path
    assert (
        browser.get("/queues", headers={"accept": "application/json"}).json()["queues"][0][
            "address"
        ]
        == "default"
    )


def test_every_response_sends_the_security_headers(client: Client) -> None:
    for response in (client().get("/"), client().get("/nowhere"), client(("10.1.2.3", 1)).get("/")):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value


def test_a_post_without_the_csrf_token_is_refused(
    client: Client, sqlite_manager: QueueManager
) -> None:
    browser = client()
    cookie = token(browser)
    assert browser.post("/queues/default/pause").status_code == 403
    assert browser.post("/queues/default/pause", data={"_token": "forged"}).status_code == 403
    assert not Queue.is_paused()
    paused = browser.post("/queues/default/pause", data={"_token": cookie}, follow_redirects=False)
    assert paused.status_code == 303 and paused.headers["location"].startswith("/queues?notice=")
    assert Queue.is_paused()
    resumed = browser.post(
        "/queues/default/resume",
        headers={"x-csrf-token": cookie, "accept": "application/json"},
    )
    assert resumed.json()["ok"] is True and not Queue.is_paused()


def test_read_only_shows_no_button_and_refuses_every_action(
    client: Client, sqlite_manager: QueueManager
) -> None:
    fail(sqlite_manager, jobs.Traced("/dev/null", "x"), "ValueError: no")
    browser = client(read_only=True)
    cookie = token(browser)
    for path in ["/queues", "/failed", "/failed/1"]:
        assert 'method="post"' not in browser.get(path).text, path
    refused = browser.post("/queues/default/pause", data={"_token": cookie})
    assert refused.status_code == 403 and not Queue.is_paused()
    assert browser.post("/failed/1/forget", data={"_token": cookie}).status_code == 403
    assert sqlite_manager.failed.count() == 1


def test_without_authorize_only_this_machine_gets_in(client: Client) -> None:
    assert client(("192.168.1.9", 1)).get("/").status_code == 403
    assert client(("::1", 1)).get("/").status_code == 200
    assert client(("192.168.1.9", 1), insecure_no_auth=True).get("/").status_code == 200


def test_authorize_decides_sync_or_async(client: Client) -> None:
    def admins(request: Request) -> bool:
        return request.headers.get("x-user") == "admin"

    async def nobody(request: Request) -> bool:
        return False

    outside = ("203.0.113.7", 1)
    assert (
        client(outside, authorize=admins).get("/", headers={"x-user": "admin"}).status_code == 200
    )
    assert client(outside, authorize=admins).get("/").status_code == 403
    assert client(LOCAL, authorize=nobody).get("/").status_code == 403


def test_failed_jobs_are_found_retried_and_forgotten(
    client: Client, sqlite_manager: QueueManager
) -> None:
    declined = fail(sqlite_manager, jobs.Traced("/dev/null", "a"), "ValueError: card declined")
    fail(sqlite_manager, jobs.Traced("/dev/null", "b"), "TimeoutError: <script>alert(1)</script>")
    browser = client()
    found = browser.get("/failed", params={"q": "declined"}, headers={"accept": "application/json"})
    [row] = found.json()["rows"]
    assert (row["uuid"], row["exception"]) == (declined, "ValueError: card declined")
    page = browser.get("/failed").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    cookie = token(browser)
    retried = browser.post(f"/failed/{row['id']}/retry", data={"_token": cookie})
    assert retried.url.path == f"/jobs/{declined}"  # where the retried job is followed
    assert Queue.pending_size() == 1 and sqlite_manager.failed.count() == 1
    everything = browser.post("/failed/retry", data={"_token": cookie, "q": "script"})
    assert "Retried 1 failed job(s)." in everything.text
    assert sqlite_manager.failed.count() == 0 and Queue.pending_size() == 2
    assert browser.post("/failed/1/forget", data={"_token": cookie}).status_code == 404


def test_an_encrypted_job_s_state_is_never_shown(
    client: Client, sqlite_manager: QueueManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LQ_ENCRYPTION_KEY", Fernet.generate_key().decode())
    fail(sqlite_manager, jobs.ChargesCard("/dev/null", "c", "4242424242424242"), "ValueError: no")
    [row] = sqlite_manager.failed.all()
    page = client().get(f"/failed/{row.id}")
    assert page.status_code == 200 and "(encrypted: not shown)" in page.text
    assert "4242" not in page.text
    assert row.state["lq_encrypted"] not in page.text  # not even the ciphertext
    data = client().get(f"/failed/{row.id}", headers={"accept": "application/json"}).json()
    assert data["encrypted"] is True and data["state"] == "(encrypted: not shown)"


def test_a_batch_and_a_job_have_pages_and_their_actions(
    client: Client, sqlite_manager: QueueManager, trace: Path
) -> None:
    batch = (
        Bus.batch([jobs.Traced(str(trace), "a"), jobs.Traced(str(trace), "b")])
        .name("Imports")
        .dispatch()
    )
    browser = client()
    listed = browser.get("/batches", headers={"accept": "application/json"}).json()
    assert [(b["id"], b["name"], b["pending_jobs"]) for b in listed["batches"]] == [
        (batch.id, "Imports", 2)
    ]
    page = browser.get(f"/batches/{batch.id}").text
    assert re.search(r'<progress max="100" value="0"', page)
    cookie = token(browser)
    browser.post(f"/batches/{batch.id}/cancel", data={"_token": cookie})
    assert sqlite_manager.batches.find(batch.id).cancelled_at is not None  # type: ignore[union-attr]
    job_id = jobs.Traced(str(trace), "c").dispatch()
    job = browser.get(f"/jobs/{job_id}", headers={"accept": "application/json"}).json()
    assert (job["state"], job["name"]) == ("pending", "tests.jobs.Traced")
    assert browser.get("/jobs", params={"id": job_id}).url.path == f"/jobs/{job_id}"
    cancelled = browser.post(f"/jobs/{job_id}/cancel", data={"_token": cookie})
    assert "Cancelled the job." in cancelled.text
    assert Queue.status(job_id).state == "cancelled"  # type: ignore[union-attr]
    assert browser.get("/jobs/unknown").status_code == 404


def test_lq_dashboard_refuses_a_non_loopback_bind_without_authorize(
    sqlite_manager: QueueManager,
) -> None:
    refused = run_lq(sqlite_manager, "dashboard", "--host", "0.0.0.0")
    assert refused.exit_code != 0
    assert "--authorize" in refused.output and "--insecure-no-auth" in refused.output


def test_a_database_that_does_not_answer_gives_a_page_saying_so(
    redis_urls: ServiceUrls, lq_home: Path
) -> None:
    celery = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    down = QueueManager(
        celery,
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/gone",
        cache_url=redis_urls.cache,
    )
    browser = TestClient(app(down), client=LOCAL)
    page = browser.get("/failed")
    assert page.status_code == 503 and "A store cannot be reached" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert browser.get("/queues").status_code == 200  # what does not need it still works
    down.cache.close()

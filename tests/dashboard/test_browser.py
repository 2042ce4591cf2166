"""The dashboard in a real browser (Chromium driven by Playwright) against a real
`lq dashboard` and real `lq work` processes, on Redis and PostgreSQL: what an operator does.

With LQ_DOCS_SCREENSHOTS=1 (`make screenshots`) each page's screenshot is written to
docs/images/dashboard/, where the docs show them; otherwise to the test's own folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from celery import Celery

from laravel_queue import Bus, Queue, QueueManager

from .. import jobs
from ..support import ROOT, Running, ServiceUrls, lines, lq_running, wait_until

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path(os.environ.get("LQ_CHROMIUM", "/usr/bin/chromium"))
DOCS_IMAGES = ROOT / "docs" / "images" / "dashboard"


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright.Browser]:
    if not CHROMIUM.exists():
        why = f"no Chromium at {CHROMIUM} (`make test` installs Debian's where it can)"
        if os.environ.get("LQ_REQUIRE_SERVICES") == "1":
            pytest.fail(why)
        pytest.skip(why)
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def env(redis_urls: ServiceUrls, postgres_url: str, lq_home: Path) -> Iterator[dict[str, str]]:
    """Redis as broker and cache, PostgreSQL as the database: for this process and for the
    `lq` processes started with `--app tests.apps`."""
    app = Celery("lq_tests", broker=redis_urls.broker, set_as_current=False)
    manager = QueueManager(app, database_url=postgres_url, cache_url=redis_urls.cache)
    yield {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": postgres_url,
        "LQ_HOME": str(lq_home),
    }
    manager.before_exit()
    manager.cache.close()


@pytest.fixture
def dashboard(env: dict[str, str]) -> Iterator[str]:
    """`lq dashboard` serving on a free loopback port: its address."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    with lq_running("--app", "tests.apps", "dashboard", "--port", str(port), env=env) as served:

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"{address}/queues", timeout=2) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        wait_until(answers, timeout=30, every=0.2)
        yield address
        assert served.process.poll() is None, "".join(served.output)


@pytest.fixture
def page(browser: playwright.Browser, dashboard: str) -> Iterator[playwright.Page]:
    context = browser.new_context(base_url=dashboard, viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    playwright.expect.set_options(timeout=20_000)  # pages refresh every 2 s, heartbeats every 5
    yield opened
    context.close()


def screenshot(page: playwright.Page, name: str, folder: Path) -> None:
    target = DOCS_IMAGES if os.environ.get("LQ_DOCS_SCREENSHOTS") == "1" else folder
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)
    assert (target / f"{name}.png").stat().st_size > 10_000


def working(env: dict[str, str], *args: str) -> AbstractContextManager[Running]:
    return lq_running("--app", "tests.apps", "work", "--sleep", "0.1", *args, env=env)


def test_an_operator_finds_a_failure_retries_it_and_sees_it_succeed(
    page: playwright.Page, env: dict[str, str], trace: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "bug"
    flag.touch()
    jobs.FailsWhileFlagged(str(trace), str(flag), "invoice-7").dispatch()
    for n in range(3):
        jobs.Traced(str(trace), f"fine-{n}").dispatch()
    with working(env, "-c", "2"):
        wait_until(lambda: len(lines(trace)) >= 4, timeout=30)
        page.goto("/failed")
        page.get_by_label("Search").fill("the bug is still")
        page.get_by_role("button", name="Search").click()
        row = page.locator("tr[data-failed]")
        playwright.expect(row).to_have_count(1)
        playwright.expect(row).to_contain_text("RuntimeError: the bug is still there")
        screenshot(page, "failed", tmp_path)
        row.locator("a").first.click()
        playwright.expect(page.locator("pre.traceback")).to_contain_text("the bug is still")
        screenshot(page, "failed-job", tmp_path)
        flag.unlink()  # the fix is deployed
        page.get_by_role("button", name="Retry").click()
        page.wait_for_url("**/jobs/*")
        playwright.expect(page.locator("[data-state]")).to_have_text("succeeded")
        screenshot(page, "job", tmp_path)
        assert "invoice-7 succeeded" in lines(trace)
        page.goto("/")
        playwright.expect(page.locator(".card").nth(1)).to_contain_text("4")  # processed
        playwright.expect(page.locator(".chart canvas").first).to_be_visible()
        screenshot(page, "overview", tmp_path)
        page.goto("/classes")
        playwright.expect(page.locator("section.class").first).to_be_visible()
        screenshot(page, "classes", tmp_path)


def test_a_queue_paused_from_the_page_is_not_taken_until_resumed(
    page: playwright.Page, env: dict[str, str], trace: Path, tmp_path: Path
) -> None:
    with working(env) as worker:
        page.goto("/queues")
        queue = page.locator('tr[data-queue="default"]')
        queue.get_by_role("button", name="Pause").click()
        playwright.expect(queue).to_contain_text("paused")
        # The worker reads the pause within half a second; a job pushed before it did is
        # taken, as a Laravel worker already waiting on its pop takes it.
        wait_until(lambda: any("default paused" in line for line in worker.output), timeout=10)
        jobs.Traced(str(trace), "waits").dispatch()
        playwright.expect(queue.locator("td").nth(1)).to_have_text("1")  # pending, every 2 s
        screenshot(page, "queues", tmp_path)
        assert lines(trace) == [] and Queue.pending_size() == 1
        queue.get_by_role("button", name="Resume").click()
        wait_until(lambda: [line.split(" id=")[0] for line in lines(trace)] == ["waits attempt=1"])
        playwright.expect(queue.locator("td").nth(1)).to_have_text("0")


def test_a_batch_s_progress_bar_moves(
    page: playwright.Page, env: dict[str, str], trace: Path, tmp_path: Path
) -> None:
    batch = (
        Bus.batch([jobs.TakesAMoment(str(trace), f"part-{n}", 1.0) for n in range(8)])
        .name("Monthly invoices")
        .dispatch()
    )
    page.goto(f"/batches/{batch.id}")
    bar = page.locator(".big-progress progress")
    assert bar.get_attribute("value") == "0"
    with working(env, "-c", "1"):  # 8 s of work, seen every 2 s
        page.wait_for_function(
            "() => { const v = +document.querySelector('.big-progress progress').value;"
            " return v > 0 && v < 100; }"
        )
        screenshot(page, "batch", tmp_path)
        page.wait_for_function(
            "() => document.querySelector('.big-progress progress').value == 100"
        )
    page.goto("/batches")
    playwright.expect(page.locator(f'tr[data-batch="{batch.id}"] progress')).to_have_attribute(
        "value", "100"
    )
    screenshot(page, "batches", tmp_path)


def test_a_running_job_is_cancelled_from_its_page(
    page: playwright.Page, env: dict[str, str], trace: Path, tmp_path: Path
) -> None:
    job_id = jobs.UntilCancelled(str(trace), "long").dispatch()
    with working(env):
        wait_until(lambda: lines(trace) == ["long started"], timeout=20)
        page.goto("/workers")  # the heartbeat (every 5 s) names the job it runs
        playwright.expect(page.locator(f'a[href="/jobs/{job_id}"]')).to_be_visible()
        screenshot(page, "workers", tmp_path)
        page.locator(f'a[href="/jobs/{job_id}"]').click()
        playwright.expect(page.locator("[data-state]")).to_have_text("processing")
        page.get_by_role("button", name="Cancel job").click()
        playwright.expect(page.locator(".notice")).to_have_text("Cancelled the job.")
        wait_until(lambda: "long cancelled=True" in lines(trace), timeout=10)
        # It saw cancelled() and returned: its status says how it ended.
        playwright.expect(page.locator("[data-state]")).to_have_text("succeeded")
        playwright.expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)


def test_a_post_without_the_csrf_token_is_refused(page: playwright.Page) -> None:
    page.goto("/queues")  # the browser has the dashboard's cookie now
    refused = page.request.post("/queues/default/pause", form={"reason": "no token"})
    assert refused.status == 403 and "CSRF" in refused.text()
    assert not Queue.is_paused()


def test_a_non_loopback_bind_without_authorize_is_refused_at_start(env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "laravel_queue.cli", "--app", "tests.apps", "dashboard"]
    done = subprocess.run(
        [*command, "--host", "0.0.0.0", "--port", str(free_port())],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--authorize" in done.stderr and "--insecure-no-auth" in done.stderr

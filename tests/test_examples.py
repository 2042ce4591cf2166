"""The examples in examples/ run as documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .support import ROOT, ServiceUrls


def run(script: str, home: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, f"examples/{script}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "LQ_HOME": str(home), "PYTHONPATH": str(ROOT), **env},
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_quickstart_runs_three_jobs(tmp_path: Path) -> None:
    assert run("quickstart.py", tmp_path).splitlines() == [
        "Hello, Ada (attempt 1)",
        "Hello, Grace (attempt 1)",
        "Hello, Linus (attempt 1)",
    ]


def test_retries_end_in_failed_jobs(tmp_path: Path) -> None:
    out = run("retries_and_failures.py", tmp_path).splitlines()
    assert out == [
        "failed() for order 7: card for order 7 declined",
        "failed_jobs row 1: shop_jobs.ChargeCard -> RuntimeError: card for order 7 declined",
    ]


def test_middleware_example_drops_a_duplicate_and_waits_for_the_limit(tmp_path: Path) -> None:
    assert run("middleware.py", tmp_path).splitlines() == [
        "dispatch acme: queued",
        "dispatch acme: dropped, one is already queued",
        "dispatch globex: queued",
        "dispatch initech: queued",
        "dispatch umbrella: queued",
        "report for acme (attempt 1)",
        "report for globex (attempt 1)",
        "report for initech (attempt 1)",
        "report for umbrella (attempt 1)",
        "4 reports at 2 per second took over a second: True",
        "failed jobs: 0",
    ]


def test_redis_app_module_loads_and_dispatches(redis_urls: ServiceUrls, tmp_path: Path) -> None:
    code = (
        "from examples.redis_app import ResizeImage; from laravel_queue import Queue; "
        "ResizeImage.dispatch('a.png', 100); print(Queue.size('high'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LQ_BROKER_URL": redis_urls.broker,
            "LQ_HOME": str(tmp_path),
        },
    )
    assert result.stdout.strip() == "1", result.stderr


def test_lq_demo_runs_and_says_what_happened(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "laravel_queue.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "LQ_HOME": str(tmp_path), "PYTHONPATH": str(ROOT), "COLUMNS": "80"},
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "laravel_queue.demo.ChargeExpiredCard" in result.stdout  # whole, even at 80 columns
    assert "SecurityWarning" not in result.stdout + result.stderr


def test_fastapi_example_queues_from_its_async_endpoint(tmp_path: Path) -> None:
    client = (
        "from fastapi.testclient import TestClient\n"
        "from examples.fastapi_app import app\n"
        "with TestClient(app) as http:\n"
        "    for email in ('ada@example.com', 'grace@example.com'):\n"
        "        reply = http.post('/signups', params={'email': email}).json()\n"
        "        print(reply['email'], http.get(f\"/jobs/{reply['job']}\").json()['state'])\n"
    )
    posted = python(["-c", client], tmp_path)
    assert posted.returncode == 0, posted.stderr
    assert posted.stdout.splitlines() == ["ada@example.com pending", "grace@example.com pending"]
    work = ["--app", "examples.fastapi_app", "work", "--stop-when-empty", "--sleep", "0.1"]
    worked = python(["-m", "laravel_queue.cli", *work], tmp_path)
    assert worked.returncode == 0, worked.stderr
    for email in ("ada@example.com", "grace@example.com"):
        assert f"welcome mail sent to {email}" in worked.stdout + worked.stderr


def python(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LQ_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

"""Real `lq schedule:work` processes: four on Redis and two on the embedded SQLite default,
each evaluating every event; `on_one_server()` due times dispatched exactly once, also when
one scheduler is SIGKILLed half-way."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest

from ..support import ServiceUrls, lines, lq_running

pytestmark = pytest.mark.slow


def run_schedulers(env: dict[str, str], count: int, seconds: float) -> tuple[list[str], str]:
    """`count` schedulers for `seconds`, the first SIGKILLed a third of the way; the trace
    lines and the pid that was killed."""
    with ExitStack() as running:
        schedulers = [
            running.enter_context(
                lq_running("--app", "tests.schedule_app", "schedule:work", env=env)
            )
            for _ in range(count)
        ]
        time.sleep(seconds / 3)
        schedulers[0].process.kill()
        time.sleep(seconds * 2 / 3)
    return lines(Path(env["LQ_TEST_SCHEDULE_TRACE"])), str(schedulers[0].process.pid)


def check_exactly_once(found: list[str], killed: str, seconds: float) -> None:
    due = Counter((name, int(at)) for name, at, _pid in (line.split() for line in found))
    assert max(due.values()) == 1, [key for key, n in due.items() if n > 1]  # nothing doubled
    every_second = sorted(at for name, at in due if name == "every-second")
    # nothing missed: every second from the first to the last, through the kill
    assert every_second == list(range(every_second[0], every_second[-1] + 1))
    assert len(every_second) >= seconds - 10
    minutes = [at for name, at in due if name == "every-minute"]
    assert all(at % 60 == 0 for at in minutes) and len(minutes) >= int(seconds // 60) - 1
    dispatchers = Counter(pid for *_, pid in (line.split() for line in found))
    assert len(dispatchers) >= 2 and killed in dispatchers  # the killed one had taken its share


@pytest.mark.timeout(300)  # three minutes of scheduling, as the issue asks
def test_four_schedulers_on_redis_dispatch_each_due_time_exactly_once(
    redis_urls: ServiceUrls, postgres_url: str, tmp_path: Path, lq_home: Path
) -> None:
    seconds = 180.0
    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": postgres_url,
        "LQ_TEST_SCHEDULE_TRACE": str(tmp_path / "dispatched.log"),
        "LQ_HOME": str(lq_home),
    }
    found, killed = run_schedulers(env, 4, seconds)
    check_exactly_once(found, killed, seconds)


def test_two_schedulers_on_the_embedded_default_dispatch_each_due_time_exactly_once(
    tmp_path: Path, lq_home: Path
) -> None:
    seconds = 75.0
    env = {"LQ_TEST_SCHEDULE_TRACE": str(tmp_path / "dispatched.log"), "LQ_HOME": str(lq_home)}
    found, killed = run_schedulers(env, 2, seconds)
    check_exactly_once(found, killed, seconds)

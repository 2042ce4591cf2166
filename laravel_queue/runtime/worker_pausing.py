"""Pausing a whole worker by signal (Laravel 13's `queue:work`: SIGUSR2 pauses, SIGCONT
resumes, firing `WorkerPausing` and `WorkerResuming`).

The handlers only note the request; the worker's poll (`interruptions.InterruptionPolling`,
every half second) holds every queue while it stands — no new job is taken, the running
ones finish — fires the event, and logs it. They are installed in the worker's main process
before the pool starts (Celery's `worker_init`), so a pool process that gets the signal too
(`kill -USR2 -<group>`) only notes it as well, instead of dying of SIGUSR2's default action.
"""

from __future__ import annotations

import signal
from types import FrameType

PAUSE = signal.SIGUSR2
RESUME = signal.SIGCONT


class _Requested:
    paused = False


requested = _Requested()


def listen() -> None:
    """Install the handlers (main thread, before the pool is forked)."""
    signal.signal(PAUSE, _pause)
    signal.signal(RESUME, _resume)


def _pause(_signum: int, _frame: FrameType | None) -> None:
    requested.paused = True


def _resume(_signum: int, _frame: FrameType | None) -> None:
    requested.paused = False

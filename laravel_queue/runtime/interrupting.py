"""`interrupted(reason)` on a running job: Laravel 13's `Interruptible`.

Laravel calls `interrupted($signal)` on the job its worker is running when the worker gets
SIGTERM, SIGINT or SIGQUIT, inside `handle()` (PHP runs the signal handler between two of its
statements); the job goes on unless it returns or releases itself. Here a job that defines
`interrupted(self, reason: str)` is told, once per reason and run:

- `"shutdown"`: its worker began a warm shutdown (SIGTERM, or a first Ctrl-C). The worker's
  main process raises a flag in memory its pool processes share with it (made before they
  are forked), which their watcher threads read with the cancels. (A signal to the pool
  processes would be quicker, but billiard's pool could hang on a signal that reaches a pool
  process while it stops.)
- `"cancelled"`: `Queue.cancel(job_id)` while it runs, seen by a watcher thread of the job's
  process within `Cancels.REFRESH_SECONDS`.

It is called in the job's process, on the thread running `handle()` when that is the main
thread (prefork and solo pools: as a signal handler, between two Python statements, so an
exception it raises is raised in `handle()` where it was); on the threads pool, from the
watcher's thread or the worker's signal handler, and what it raises is logged.
"""

from __future__ import annotations

import logging
import mmap
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from billiard.process import current_process

from laravel_queue.status.cancels import REFRESH_SECONDS, Cancels

logger = logging.getLogger("laravel_queue")

# The signal a job's own thread is told by. A real-time signal where the system has them, so
# SIGUSR2 and SIGCONT stay free for pausing a worker as Laravel 13 does (`worker_pausing`).
NOTICE = signal.SIGRTMIN + 1 if hasattr(signal, "SIGRTMIN") else signal.SIGUSR2
SHUTDOWN = "shutdown"
CANCELLED = "cancelled"


@dataclass
class _Running:
    job: object
    job_id: str
    thread: int
    told: set[str] = field(default_factory=set)
    to_tell: list[str] = field(default_factory=list)  # on the job's thread, by `NOTICE`


_lock = threading.Condition()
_running: dict[int, _Running] = {}  # by the ident of the thread running the job
_watching: set[int] = set()  # the processes whose watcher thread runs
_shutdown_flag: mmap.mmap | None = None  # shared with the pool processes: 1 once stopping


def listen() -> None:
    """In the worker's main process (main thread), before its pool processes start, so each
    of them has both: the `NOTICE` handler and the shared shutdown flag."""
    global _shutdown_flag
    signal.signal(NOTICE, _on_notice)
    _shutdown_flag = mmap.mmap(-1, 1)  # anonymous and shared: the pool processes see writes


@contextmanager
def running(job: object, job_id: str, cancels: Cancels | None) -> Iterator[None]:
    """While `job` runs on this thread, a warm shutdown reaches its `interrupted()` (if it
    has one); with `cancels`, a cancel of `job_id` does too, and a cancel with `terminate`
    kills this pool process."""
    ident = threading.get_ident()
    with _lock:
        _running[ident] = _Running(job, job_id, ident)
        if cancels is not None and os.getpid() not in _watching:
            _watching.add(os.getpid())
            threading.Thread(target=_watch, args=(cancels,), name="lq-cancels", daemon=True).start()
        _lock.notify()
    try:
        yield
    finally:
        with _lock:
            _running.pop(ident, None)


def warm_shutdown() -> None:
    """The worker's main process began a warm shutdown: tell the jobs it runs itself (solo
    and threads pools) now, and raise the flag its pool processes' watchers read (prefork)."""
    with _lock:
        entries = list(_running.values())
    for entry in entries:
        _tell(entry, SHUTDOWN)
    if _shutdown_flag is not None:
        _shutdown_flag[0] = 1


def _tell(entry: _Running, reason: str) -> None:
    """Call `interrupted(reason)` once, if the job has it: on the job's thread when that is
    the main thread (where `NOTICE` is handled), else from this one."""
    hook = getattr(entry.job, "interrupted", None)
    if not callable(hook):
        return
    by_notice = (
        entry.thread == threading.main_thread().ident and signal.getsignal(NOTICE) is _on_notice
    )
    with _lock:
        if reason in entry.told:
            return
        entry.told.add(reason)
        if by_notice:
            entry.to_tell.append(reason)
    if by_notice:
        signal.pthread_kill(entry.thread, NOTICE)
        return
    try:
        hook(reason)
    except Exception:
        logger.exception(
            "%s.interrupted(%r) of job %s raised", type(entry.job).__name__, reason, entry.job_id
        )


def _on_notice(_signum: int, _frame: FrameType | None) -> None:
    """On the main thread, between two statements of the job running there: the reasons
    left for it."""
    with _lock:
        entry = _running.get(threading.get_ident())
        if entry is None:
            return  # between jobs: nothing to tell (Laravel tells no job either)
        reasons, entry.to_tell = entry.to_tell, []
    hook = getattr(entry.job, "interrupted", None)
    if callable(hook):
        for reason in reasons:
            hook(reason)  # what it raises is raised in handle(), where it was


def _watch(cancels: Cancels) -> None:
    """Every `REFRESH_SECONDS` while jobs run in this process: tell them of their worker's
    warm shutdown, tell the cancelled ones, and kill this pool process for one cancelled
    with `terminate`."""
    pid = os.getpid()
    while os.getpid() == pid:
        with _lock:
            while not _running:
                _lock.wait()
            entries = list(_running.values())
        stopping = _shutdown_flag is not None and _shutdown_flag[0] == 1
        for entry in entries:
            if stopping:
                _tell(entry, SHUTDOWN)
            if CANCELLED in entry.told or not cancels.is_cancelled(entry.job_id):
                continue
            if cancels.is_terminated(entry.job_id):
                _terminate(entry)
            _tell(entry, CANCELLED)
        time.sleep(REFRESH_SECONDS)


def _terminate(entry: _Running) -> None:
    """Kill this process, as Celery's `revoke(terminate=True)` does: only a pool process
    (its worker replaces it, and the job, given back, is acknowledged as cancelled); a job
    run by the worker's own process (solo, threads) is only asked to stop."""
    if current_process().name == "MainProcess":
        logger.warning(
            "job %s: cancelled with terminate, but it runs in the worker's own process "
            "(solo or threads pool), which is not killed; it is asked to stop instead",
            entry.job_id,
        )
        return
    logger.warning("job %s: cancelled with terminate, killing its pool process", entry.job_id)
    os.kill(os.getpid(), signal.SIGKILL)


def _forget_parent() -> None:
    """A forked pool process starts with no jobs, no watcher and a fresh lock (and the
    shutdown flag it shares with its worker)."""
    global _lock
    _lock = threading.Condition()
    _running.clear()
    _watching.clear()


os.register_at_fork(after_in_child=_forget_parent)

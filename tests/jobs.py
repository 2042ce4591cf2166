"""Job classes the tests dispatch; module-level so worker processes can import them."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import redis
from celery import shared_task

from laravel_queue import (
    Job,
    Limit,
    RateLimiter,
    ShouldBeEncrypted,
    ShouldBeUnique,
    ShouldBeUniqueUntilProcessing,
    callback,
)
from laravel_queue.bus.batch import Batch
from laravel_queue.manager import current_manager
from laravel_queue.middleware import (
    FailOnException,
    Next,
    RateLimited,
    Release,
    Skip,
    SkipIfBatchCancelled,
    ThrottlesExceptions,
    WithoutOverlapping,
)
from laravel_queue.runtime import event_loops


def note(path: str, line: str) -> None:
    with Path(path).open("a") as handle:
        handle.write(line + "\n")


class Traced(Job):
    """Writes "<name> attempt=<n> id=<uuid>" for every run of handle()."""

    def __init__(self, trace: str, name: str = "job") -> None:
        self.trace = trace
        self.name = name

    def handle(self) -> None:
        note(self.trace, f"{self.name} attempt={self.attempts()} id={self.job_id}")

    def failed(self, exc: BaseException) -> None:
        note(self.trace, f"{self.name} failed={type(exc).__name__} fresh={not hasattr(self, 'x')}")


class FailsUntil(Traced):
    """Raises until its `succeed_on` attempt."""

    tries = 5
    backoff = [1, 1]

    def __init__(self, trace: str, succeed_on: int, name: str = "flaky") -> None:
        super().__init__(trace, name)
        self.succeed_on = succeed_on

    def handle(self) -> None:
        super().handle()
        self.x = "changed in handle"
        if self.attempts() < self.succeed_on:
            raise RuntimeError(f"boom on attempt {self.attempts()}")


class AlwaysFails(Traced):
    tries = 2

    def handle(self) -> None:
        super().handle()
        self.x = "changed in handle"
        raise ValueError("always fails")


class FailsThreeTimes(Traced):
    """Three tries, no backoff, an exception every time: retried twice, then failed."""

    tries = 3
    backoff = 0

    def handle(self) -> None:
        super().handle()
        raise ValueError("fails every time")


class Unlimited(FailsUntil):
    tries = 0
    backoff = 0


class Releases(Traced):
    """Releases itself every time: each release spends an attempt (Laravel)."""

    tries = 3

    def handle(self) -> None:
        super().handle()
        self.release()


class BackoffRecorder(Traced):
    tries = 4
    backoff = [1, 2]

    def handle(self) -> None:
        note(self.trace, f"at={time.time():.3f}")
        raise RuntimeError("again")


class Deadline(Traced):
    """retry_until wins over tries: retried past tries=1 until the deadline passes."""

    tries = 1
    backoff = 0

    def __init__(self, trace: str, seconds: float) -> None:
        super().__init__(trace, "deadline")
        self.until = (datetime.now(timezone.utc) + timedelta(seconds=seconds)).timestamp()

    def retry_until(self) -> datetime | None:
        return datetime.fromtimestamp(self.until, timezone.utc)

    def handle(self) -> None:
        super().handle()
        raise RuntimeError("not yet")


class MaxExceptions(Traced):
    """tries=10, but fails after 2 unhandled exceptions; releases do not count."""

    tries = 10
    max_exceptions = 2
    backoff = 0

    def handle(self) -> None:
        super().handle()
        if self.attempts() % 2 == 1:
            self.release()
            return
        raise RuntimeError("counted")


class ManualFail(Traced):
    def handle(self) -> None:
        super().handle()
        self.fail("gave up")
        note(self.trace, "handle went on after fail()")


class Deletes(Traced):
    tries = 3

    def handle(self) -> None:
        super().handle()
        self.delete()
        raise RuntimeError("deleted jobs are not retried")


class Sleeps(Traced):
    timeout = 1
    tries = 2

    def handle(self) -> None:
        super().handle()
        time.sleep(10)


class TakesAMoment(Traced):
    """Works for `seconds`, then writes its trace line: long enough to be killed mid-run."""

    tries = 0

    def __init__(self, trace: str, name: str = "job", seconds: float = 0.05) -> None:
        super().__init__(trace, name)
        self.seconds = seconds

    def handle(self) -> None:
        time.sleep(self.seconds)
        super().handle()


class Spans(Job):
    """Writes "start <time> <pid>" and "end <time> <pid>" around `seconds` of work: whether
    two runs overlapped is read from the trace."""

    tries = 1
    timeout = 300

    def __init__(self, trace: str, seconds: float) -> None:
        self.trace = trace
        self.seconds = seconds

    def handle(self) -> None:
        note(self.trace, f"start {time.time()} {os.getpid()}")
        time.sleep(self.seconds)
        note(self.trace, f"end {time.time()} {os.getpid()}")


class Routed(Traced):
    """Names no queue or connection: goes where `Queue.route` sends it."""


class RoutedChild(Routed):
    """Routed through its parent's route unless routed itself."""


class RoutedButChooses(Routed):
    queue = "own"  # a job's own choice beats its route


class WaitsForTheFlag(Traced):
    """Released (for `wait` seconds) while the file `flag` exists (`Release.when`), or while
    it does not (`Release.unless`, with `unless=True`)."""

    tries = 5

    def __init__(
        self, trace: str, flag: str, unless: bool = False, count_attempt: bool = True
    ) -> None:
        super().__init__(trace, "waits")
        self.flag, self.unless, self.count_attempt = flag, unless, count_attempt

    def middleware(self) -> list[Any]:
        exists = Path(self.flag).exists()
        build = Release.unless if self.unless else Release.when
        return [build(exists, 0.2, count_attempt=self.count_attempt)]


class Debounced(Traced):
    """Of a burst of dispatches for one `key`, only the last runs, a second after it."""

    debounce_for = 1

    def __init__(self, trace: str, name: str, key: str = "") -> None:
        super().__init__(trace, name)
        self.key = key

    def debounce_id(self) -> object:
        return self.key


class DebouncedAtMost(Debounced):
    """Runs at least every 2 s while dispatches keep coming."""

    debounce_max_wait = 2


class AsyncSleeps(Job):
    """`await asyncio.sleep(seconds)`, then "<name> pid=<pid> loop=<id> thread=<name>
    loops=<created in this process>"; sees a cancel as "cancelled"."""

    tries = 2

    def __init__(self, trace: str, name: str, seconds: float = 0.05) -> None:
        self.trace, self.name, self.seconds = trace, name, seconds

    async def handle(self) -> None:
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            note(self.trace, f"{self.name} cancelled attempt={self.attempts()}")
            raise
        loop = id(asyncio.get_running_loop())
        note(
            self.trace,
            f"{self.name} pid={os.getpid()} loop={loop} thread={threading.current_thread().name}"
            f" loops={event_loops.loops_created()} attempt={self.attempts()}",
        )

    async def failed(self, exc: BaseException) -> None:
        await asyncio.sleep(0)
        note(self.trace, f"{self.name} failed={type(exc).__name__}")


class AsyncAround:
    """An async middleware: notes before and after `await next(job)`."""

    def __init__(self, trace: str, name: str) -> None:
        self.trace, self.name = trace, name

    async def handle(self, job: Job, next: Next) -> None:
        note(self.trace, f"{self.name} before")
        await asyncio.sleep(0)
        await next(job)
        note(self.trace, f"{self.name} after")


class SyncAround(AsyncAround):
    def handle(self, job: Job, next: Next) -> None:  # type: ignore[override]
        note(self.trace, f"{self.name} before")
        next(job)
        note(self.trace, f"{self.name} after")


class AsyncThroughMiddleware(AsyncSleeps):
    """Async middleware outside, sync inside, async handle: wrap-around on every layer."""

    def middleware(self) -> list[Any]:
        return [AsyncAround(self.trace, "outer"), SyncAround(self.trace, "inner")]


class AsyncReleasesThenFails(AsyncSleeps):
    """Releases itself on its first attempt, fails itself on its second, reporting progress."""

    async def handle(self) -> None:
        await asyncio.sleep(0)
        self.progress(1, 2, "half")
        if self.attempts() == 1:
            note(self.trace, f"{self.name} releasing")
            self.release(0)
            return
        self.fail("enough")


class KillsItsWorker(Traced):
    """SIGKILLs the pool process running it: must fail after `tries`, not loop."""

    tries = 2

    def handle(self) -> None:
        super().handle()
        os.kill(os.getpid(), signal.SIGKILL)


class Color:
    pass


@dataclass
class Address:
    street: str
    number: int


class RichState(Job):
    def __init__(self, trace: str, **values: Any) -> None:
        self.trace = trace
        self.values = values

    def handle(self) -> None:
        note(self.trace, repr(self.values))


class CountingMiddleware:
    def __init__(self, trace: str, label: str, call_next: bool = True) -> None:
        self.trace, self.label, self.call_next = trace, label, call_next

    def handle(self, job: Job, next: Next) -> None:
        note(self.trace, f"before {self.label}")
        if self.call_next:
            next(job)
        note(self.trace, f"after {self.label}")


class WithMiddleware(Traced):
    def __init__(self, trace: str, stop: bool = False) -> None:
        super().__init__(trace, "mw")
        self.stop = stop

    def middleware(self) -> list[Any]:
        return [
            CountingMiddleware(self.trace, "outer"),
            CountingMiddleware(self.trace, "inner", call_next=not self.stop),
        ]


class Sleepy(Job):
    def __init__(self, trace: str, seconds: float) -> None:
        self.trace = trace
        self.seconds = seconds

    def handle(self) -> None:
        note(self.trace, "sleepy started")
        time.sleep(self.seconds)
        note(self.trace, "sleepy finished")


class NoSettings(Traced):
    """Sets neither tries nor backoff: the worker's --tries / --backoff apply."""

    def handle(self) -> None:
        super().handle()
        raise RuntimeError("uses the worker defaults")


class FailsOnTimeout(Traced):
    timeout = 1
    tries = 5
    fail_on_timeout = True

    def handle(self) -> None:
        super().handle()
        time.sleep(10)


class FailsWhileFlagged(Traced):
    """Fails while the file `flag` exists: delete it to "deploy the fix", then retry."""

    tries = 1

    def __init__(self, trace: str, flag: str, name: str = "flagged") -> None:
        super().__init__(trace, name)
        self.flag = flag

    def handle(self) -> None:
        super().handle()
        if Path(self.flag).exists():
            raise RuntimeError("the bug is still there")
        note(self.trace, f"{self.name} succeeded")


@shared_task(name="tests.plain.fails_while_flagged")
def plain_fails_while_flagged(trace: str, flag: str) -> None:
    """An ordinary Celery task (no Job class)."""
    note(trace, "plain ran")
    if Path(flag).exists():
        raise RuntimeError("plain task bug")
    note(trace, "plain succeeded")


@shared_task(name="tests.plain.kills_its_worker")
def plain_kills_its_worker() -> None:
    """A lost worker process: `task_failure` fires in the worker's main process."""
    os.kill(os.getpid(), signal.SIGKILL)


class RetriesForAnHour(Traced):
    """retry_until() is relative to now: `failed:retry` must give it a fresh deadline."""

    def retry_until(self) -> datetime | None:
        return datetime.now(timezone.utc) + timedelta(hours=1)


class SleepsWithoutTimeout(Traced):
    """No `timeout` of its own: the worker's --timeout applies."""

    tries = 1

    def handle(self) -> None:
        super().handle()
        time.sleep(10)


@shared_task(name="tests.plain.sleeps")
def plain_sleeps(trace: str, seconds: float) -> None:
    """A plain task longer than the worker's --timeout: jobs' defaults must not cut it."""
    time.sleep(seconds)
    note(trace, "plain slept")


@shared_task(name="tests.plain.over_time")
def plain_over_time() -> None:
    """Sent with a 1 s hard time limit: `task_failure` fires in the main process."""
    time.sleep(30)


class Skippable(Traced):
    """Skip.when / Skip.unless on a flag file, settled when the worker builds middleware()."""

    tries = 3

    def __init__(self, trace: str, flag: str, unless: bool = False) -> None:
        super().__init__(trace, "skippable")
        self.flag, self.unless = flag, unless

    def middleware(self) -> list[Any]:
        exists = Path(self.flag).exists
        return [Skip.unless(exists) if self.unless else Skip.when(exists)]


class DeclinedError(Exception):
    pass


class FailsFastOnDeclined(Traced):
    """tries=3, but a DeclinedError fails it at once; other errors are retried."""

    tries = 3
    backoff = 0

    def __init__(self, trace: str, error: str, by_callable: bool = False) -> None:
        super().__init__(trace, error)
        self.error, self.by_callable = error, by_callable

    def middleware(self) -> list[Any]:
        if self.by_callable:
            return [FailOnException(lambda exc, job: "declined" in str(exc))]
        return [FailOnException([DeclinedError])]

    def handle(self) -> None:
        super().handle()
        if self.error == "declined":
            raise DeclinedError("card declined")
        raise RuntimeError("gateway timeout")


RateLimiter.for_("tests-per-minute", lambda job: Limit.per_minute(1).by(job.group))
RateLimiter.for_("tests-per-second", lambda job: [Limit.none(), Limit.per_second(1)])


class Limited(Traced):
    """RateLimited with each of its modes: release (default), dont_release, wait."""

    tries = 3

    def __init__(self, trace: str, name: str, group: str, mode: str = "release") -> None:
        super().__init__(trace, name)
        self.group, self.mode = group, mode

    def middleware(self) -> list[Any]:
        if self.mode == "dont_release":
            return [RateLimited("tests-per-minute").dont_release()]
        if self.mode == "wait":  # tries=1 would fail it if waiting spent attempts
            return [RateLimited("tests-per-second").release_after(0.3, count_attempt=False)]
        if self.mode == "unknown":
            return [RateLimited("no-such-limiter")]
        return [RateLimited("tests-per-minute").release_after(0.1)]


class WaitsItsTurn(Limited):
    tries = 1


class Overlapping(Traced):
    """WithoutOverlapping on `key` in each of its modes; raises when `name` starts with "boom"."""

    tries = 3

    def __init__(self, trace: str, name: str, key: str = "k", mode: str = "release") -> None:
        super().__init__(trace, name)
        self.key, self.mode = key, mode

    def middleware(self) -> list[Any]:
        overlap = WithoutOverlapping(self.key)
        if self.mode == "dont_release":
            return [overlap.dont_release()]
        if self.mode == "wait":  # tries=1 would fail it if waiting spent attempts
            return [overlap.release_after(0.2, count_attempt=False)]
        if self.mode == "shared":
            return [overlap.shared().release_after(0.1)]
        return [overlap.release_after(0.1)]

    def handle(self) -> None:
        super().handle()
        key = self.middleware()[0].lock_key(self)
        note(self.trace, f"held {key} ttl={current_manager().cache.ttl(key)}")
        if self.name.startswith("boom"):
            raise RuntimeError("boom while holding the lock")


class WaitsForTheLock(Overlapping):
    tries = 1


class CallsAFlakyService(Traced):
    """Raises `error` on its first `failures` attempts, under ThrottlesExceptions(2, 60)."""

    tries = 6
    max_exceptions = 1  # throttled exceptions are swallowed: they never count here

    def __init__(
        self, trace: str, name: str, failures: int, error: str = "runtime", mode: str = ""
    ) -> None:
        super().__init__(trace, name)
        self.failures, self.error, self.mode = failures, error, mode

    def middleware(self) -> list[Any]:
        throttle = ThrottlesExceptions(2, 60).backoff(0.01).by(self.mode or "flaky")
        if self.mode == "when":
            return [throttle.when(lambda exc: not isinstance(exc, KeyError))]
        if self.mode == "delete_when":
            return [throttle.delete_when(KeyError)]
        if self.mode == "fail_when":
            return [throttle.fail_when(lambda exc: isinstance(exc, KeyError))]
        return [throttle]

    def handle(self) -> None:
        super().handle()
        if self.attempts() <= self.failures:
            raise KeyError("gone") if self.error == "key" else RuntimeError("service down")


class SyncsAccount(Traced, ShouldBeUnique):
    """Unique per account for 60 s; raises while the file `flag` exists."""

    tries = 2
    backoff = 2
    unique_for = 60

    def __init__(self, trace: str, name: str, account: int, flag: str = "") -> None:
        super().__init__(trace, name)
        self.account, self.flag = account, flag

    def unique_id(self) -> object:
        return self.account

    def handle(self) -> None:
        super().handle()
        if self.flag and Path(self.flag).exists():
            raise RuntimeError("account service down")


class PreparesItself(SyncsAccount):
    """Declines its dispatch (`prepare_for_dispatch` returns False) while `decline` is set,
    and stamps the account it was prepared for."""

    decline = False

    def prepare_for_dispatch(self) -> bool | None:
        if self.decline:
            return False
        self.prepared_for = f"account {self.account}"
        return None


class SyncsUntilProcessing(Traced, ShouldBeUniqueUntilProcessing):
    """Notes whether its lock was still held when handle() ran."""

    def handle(self) -> None:
        super().handle()
        key = "unique:tests.jobs.SyncsUntilProcessing:"
        note(self.trace, f"lock held in handle: {current_manager().cache.get(key) is not None}")


class ChargesCard(Traced, ShouldBeEncrypted):
    """Its card number must never be readable on the broker or in failed_jobs."""

    def __init__(self, trace: str, name: str, card: str) -> None:
        super().__init__(trace, name)
        self.card = card

    def handle(self) -> None:
        note(self.trace, f"{self.name} attempt={self.attempts()} card={self.card}")


@lru_cache(maxsize=1)
def probe() -> redis.Redis:
    """The Redis the proofs below record what they saw in (LQ_TEST_PROBE), whatever the store."""
    return redis.Redis.from_url(os.environ["LQ_TEST_PROBE"])


class CountsOverlaps(Job):
    """Records how many jobs of its kind run at once; `guarded` adds WithoutOverlapping."""

    tries = 1

    def __init__(self, guarded: bool = True) -> None:
        self.guarded = guarded

    def middleware(self) -> list[Any]:
        if not self.guarded:
            return []
        return [WithoutOverlapping("proof").release_after(0, count_attempt=False)]

    def handle(self) -> None:
        running = probe().incr("running")
        probe().rpush("seen", running)
        time.sleep(0.002)
        probe().decr("running")


RateLimiter.for_("tests-proof", lambda job: Limit.per_second(20))


class CountsWindows(Job):
    """Records, per run, when its rate-limit window ends: runs of one window share that end."""

    tries = 1

    def middleware(self) -> list[Any]:
        return [RateLimited("tests-proof").release_after(0.2, count_attempt=False)]

    def handle(self) -> None:
        key = RateLimited("tests-proof").limit_key(Limit.per_second(20))
        probe().rpush("window-ends", time.time() + RateLimiter.available_in(key))


class HoldsTheLockTillKilled(Job):
    """Takes the "killed" overlap lock (3 s TTL) and sleeps until its worker is SIGKILLed."""

    timeout = 300

    def __init__(self, trace: str, name: str) -> None:
        self.trace, self.name = trace, name

    def middleware(self) -> list[Any]:
        return [
            WithoutOverlapping("killed").expire_after(3).release_after(0.2, count_attempt=False)
        ]

    def handle(self) -> None:
        note(self.trace, f"{self.name} started at {time.time()}")
        if self.name == "holder":
            time.sleep(300)


class TimesOutWhileThrottled(FailsOnTimeout):
    """A timeout must reach the worker's timeout rules, not the middleware's exception rules."""

    def middleware(self) -> list[Any]:
        return [ThrottlesExceptions(10, 60), FailOnException([Exception])]


class ReleasesOnce(Traced):
    """Releases itself on its first attempt, succeeds on the second."""

    tries = 3

    def handle(self) -> None:
        super().handle()
        if self.attempts() == 1:
            self.release()


class ExtendsItsChain(Traced):
    """Puts one job right after itself and one at the end of its chain."""

    def handle(self) -> None:
        super().handle()
        self.prepend_to_chain(Traced(self.trace, "prepended"))
        self.append_to_chain(Traced(self.trace, "appended"))


CALLBACK_TRACE = "LQ_TEST_CALLBACK_TRACE"


@callback
def note_chain_failure(exc: BaseException) -> None:
    """A chain's catch callback: writes what it was given to $LQ_TEST_CALLBACK_TRACE."""
    note(os.environ[CALLBACK_TRACE], f"catch {type(exc).__name__}: {exc}")


def not_a_callback(exc: BaseException) -> None:
    """Module-level, but not decorated with @callback: refused as a callback."""


class DeletesItself(Traced):
    """Deletes itself and returns: done, as far as its chain is concerned."""

    def handle(self) -> None:
        super().handle()
        self.delete()


def _batch_note(line: str) -> None:
    note(os.environ[CALLBACK_TRACE], line)


@callback
def batch_before(batch: Batch) -> None:
    _batch_note(f"before {batch.name} total={batch.total_jobs}")


@callback
def batch_then(batch: Batch) -> None:
    _batch_note(f"then {batch.name} pending={batch.pending_jobs} failed={batch.failed_jobs}")


@callback
def batch_catch(batch: Batch, exc: BaseException) -> None:
    _batch_note(f"catch {batch.name} {type(exc).__name__}")


@callback
def batch_finally(batch: Batch) -> None:
    _batch_note(f"finally {batch.name} pending={batch.pending_jobs} failed={batch.failed_jobs}")


@callback
def batch_progress(batch: Batch) -> None:
    _batch_note(f"progress {batch.name}")


class AddsToItsBatch(Traced):
    """Adds one job to the batch it belongs to."""

    def handle(self) -> None:
        super().handle()
        batch = self.batch()
        assert batch is not None
        batch.add([Traced(self.trace, "added")])


class SkipsWhenCancelled(Traced):
    def middleware(self) -> list[Any]:
        return [SkipIfBatchCancelled()]


class SlowlyFailsTwice(Traced):
    """Works a moment (so its `processing` status is written), raises on its first two
    attempts, then succeeds; a second between attempts."""

    tries = 3
    backoff = 1

    def handle(self) -> None:
        super().handle()
        time.sleep(0.4)
        if self.attempts() < 3:
            raise RuntimeError(f"attempt {self.attempts()} failed")


class ReportsProgress(Job):
    """Calls `self.progress()` `steps` times in a tight loop lasting about `seconds`."""

    def __init__(self, steps: int, seconds: float) -> None:
        self.steps = steps
        self.seconds = seconds

    def handle(self) -> None:
        pause = self.seconds / self.steps
        for done in range(1, self.steps + 1):
            self.progress(done, self.steps, "rows")
            time.sleep(pause)


class UntilCancelled(Traced):
    """Works until `self.cancelled()` turns true, then says so and returns."""

    def handle(self) -> None:
        note(self.trace, f"{self.name} started")
        deadline = time.monotonic() + 20
        while not self.cancelled() and time.monotonic() < deadline:
            time.sleep(0.05)
        note(self.trace, f"{self.name} cancelled={self.cancelled()}")


class SavesItsPlace(Traced):
    """Laravel 13's `Interruptible`: works until `interrupted()` says why, noting where that
    ran; told of a shutdown, it releases itself to go on later; a second attempt returns."""

    tries = 3  # a release spends an attempt
    reason = ""

    def handle(self) -> None:
        note(self.trace, f"{self.name} started attempt={self.attempts()} pid={os.getpid()}")
        deadline = time.monotonic() + 20
        while self.attempts() == 1 and not self.reason and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.reason == "shutdown":
            self.release(1)

    def interrupted(self, reason: str) -> None:
        thread = threading.current_thread().name
        note(self.trace, f"{self.name} interrupted={reason} pid={os.getpid()} thread={thread}")
        self.reason = reason


class SleepsFor(Job):
    """Sleeps a given time: a known run-time distribution for the metrics."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def handle(self) -> None:
        time.sleep(self.seconds)


@dataclass
class Customer:
    id: int
    name: str


class ChargesCustomer(Job):
    """Tagged by default from the model-like object it carries (`Customer:<id>`)."""

    def __init__(self, customer: Customer, fail: bool = False) -> None:
        self.customer = customer
        self.fail = fail

    def handle(self) -> None:
        if self.fail:
            raise RuntimeError(f"card of customer {self.customer.id} declined")


class TaggedByHand(Job):
    def __init__(self, region: str) -> None:
        self.region = region

    def tags(self) -> list[str]:
        return [f"region:{self.region}", "billing"]

    def handle(self) -> None:
        pass


class BusyTooLong(Traced):
    """Keeps working in short steps past its timeout (a loop of 20 ms sleeps, 20 s in all)."""

    timeout = 1
    tries = 2

    def handle(self) -> None:
        super().handle()
        for _ in range(1000):
            time.sleep(0.02)
        note(self.trace, f"{self.name} finished")


class NotesFrozenObjects(Job):
    """Writes how many objects its process's garbage collector holds frozen."""

    def __init__(self, trace: str) -> None:
        self.trace = trace

    def handle(self) -> None:
        import gc

        note(self.trace, f"frozen={gc.get_freeze_count()}")

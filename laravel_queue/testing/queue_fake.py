"""`Queue.fake()`: record pushed jobs instead of sending them (Laravel: Queue::fake and
Illuminate\\Support\\Testing\\Fakes\\QueueFake)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from laravel_queue.jobs.queueable import Queueable
from laravel_queue.manager import QueueManager
from laravel_queue.testing.installed import InstalledFake
from laravel_queue.testing.matching import (
    Expected,
    Predicate,
    chain_matches,
    chain_of,
    describe,
    matches,
    name_of,
)


@dataclass(frozen=True)
class PushedJob:
    """One push the fake took: the job and where, and how late, it would have gone."""

    job: Queueable
    connection: str
    queue: str
    delay: float
    job_id: str

    @property
    def chain(self) -> list[Queueable]:
        """The jobs that would have run after this one (Laravel: `$job->chained`)."""
        return chain_of(self.job)


class QueueFake(InstalledFake):
    """Installed on a manager by `Queue.fake()`; `with Queue.fake() as fake:` puts the real
    queue back afterwards (so does `fake.restore()`). `Queue.fake([SendInvoice])` fakes only
    those classes; `.except_([...])` fakes all but those: the others are pushed for real."""

    slot = "push_recorder"
    verb = "pushed"

    def __init__(self, manager: QueueManager, jobs_to_fake: Iterable[type[Queueable]] = ()) -> None:
        super().__init__(manager, jobs_to_fake)
        self.records: list[PushedJob] = []

    # -- what the connection calls -----------------------------------------------------------

    def record_push(
        self, job: Queueable, connection: str, queue: str, delay: float, job_id: str
    ) -> None:
        self.records.append(PushedJob(job, connection, queue, delay, job_id))

    # -- reading -----------------------------------------------------------------------------

    def pushed(self, cls: type[Queueable], predicate: Predicate | None = None) -> list[Queueable]:
        """The pushed jobs of `cls` (for which `predicate(job)` holds, when given)."""
        return [r.job for r in self._found(cls, predicate)]

    def pushed_jobs(self) -> list[PushedJob]:
        return list(self.records)

    def _found(self, expected: Expected, predicate: Predicate | None = None) -> list[PushedJob]:
        return [
            r
            for r in self.records
            if matches(expected, r.job) and (predicate is None or predicate(r.job))
        ]

    def _sent(self) -> list[Any]:
        return self.records

    def _instead(self) -> str:
        return describe([(r.job, f"{r.connection}:{r.queue}") for r in self.records])

    # -- assertions (Laravel: assertPushed and friends) ---------------------------------------

    def assert_pushed(
        self, cls: Expected, predicate_or_times: Predicate | int | None = None
    ) -> None:
        """At least one job of `cls` was pushed (one for which `predicate(job)` holds; with an
        int, exactly that many)."""
        self._assert_sent(cls, predicate_or_times)

    def assert_pushed_times(self, cls: Expected, times: int) -> None:
        self._assert_sent_times(cls, times)

    def assert_pushed_on(
        self, queue: str, cls: Expected, predicate: Predicate | None = None
    ) -> None:
        found = self._found(cls, predicate)
        if not any(r.queue == queue for r in found):
            queues = ", ".join(sorted({r.queue for r in found})) or "no queue"
            raise AssertionError(
                f"expected {name_of(cls)} to be pushed on {queue!r}; it was pushed on {queues}; "
                f"pushed: {self._instead()}"
            )

    def assert_not_pushed(self, cls: Expected, predicate: Predicate | None = None) -> None:
        self._assert_not_sent(cls, predicate)

    def assert_nothing_pushed(self) -> None:
        self._assert_nothing_sent()

    def assert_count(self, count: int) -> None:
        if len(self.records) != count:
            raise AssertionError(
                f"expected {count} job(s) to be pushed, {len(self.records)} were: {self._instead()}"
            )

    def assert_pushed_with_chain(
        self, cls: Expected, chain: Sequence[Expected], predicate: Predicate | None = None
    ) -> None:
        """A job of `cls` was pushed carrying exactly `chain` (classes, or instances compared
        by their state)."""
        found = self._found(cls, predicate)
        if not found:
            raise AssertionError(
                f"expected {name_of(cls)} to be pushed with a chain; pushed: {self._instead()}"
            )
        if not any(chain_matches(chain, r.chain) for r in found):
            seen = "; ".join(
                "[" + ", ".join(type(j).__name__ for j in r.chain) + "]" for r in found
            )
            wanted = ", ".join(name_of(e) for e in chain)
            raise AssertionError(
                f"expected {name_of(cls)} to be pushed with the chain [{wanted}]; "
                f"its chains: {seen}"
            )

    def assert_pushed_without_chain(
        self, cls: Expected, predicate: Predicate | None = None
    ) -> None:
        found = self._found(cls, predicate)
        if not any(not r.chain for r in found):
            detail = "it was pushed only with a chain" if found else f"pushed: {self._instead()}"
            raise AssertionError(f"expected {name_of(cls)} to be pushed without a chain; {detail}")

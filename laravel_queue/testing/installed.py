"""What both fakes share: installing themselves on a manager, choosing the jobs they take,
putting the real queue or bus back, and the assertions that only differ in their verb
("pushed", "dispatched")."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any, TypeVar

from laravel_queue.jobs.queueable import Queueable
from laravel_queue.manager import QueueManager
from laravel_queue.testing.matching import Expected, Predicate, name_of, times_or_predicate

F = TypeVar("F", bound="InstalledFake")


class InstalledFake:
    """A recorder set on `manager.<slot>` until `restore()` (or the end of a `with` block).
    Given classes, it takes only their jobs; `except_([...])` lets those through for real."""

    slot = ""  # the manager's attribute: "push_recorder" or "dispatch_recorder"
    verb = ""  # "pushed" or "dispatched", for the messages

    def __init__(self, manager: QueueManager, jobs_to_fake: Iterable[type[Queueable]] = ()) -> None:
        self.manager = manager
        self.jobs_to_fake = tuple(jobs_to_fake)
        self.jobs_let_through: tuple[type[Queueable], ...] = ()
        self._previous: Any = getattr(manager, self.slot)
        setattr(manager, self.slot, self)

    def except_(self: F, jobs: Iterable[type[Queueable]]) -> F:
        self.jobs_let_through = tuple(jobs)
        return self

    def takes(self, job: Queueable) -> bool:
        if isinstance(job, self.jobs_let_through):
            return False
        return not self.jobs_to_fake or isinstance(job, self.jobs_to_fake)

    def restore(self) -> None:
        if getattr(self.manager, self.slot) is self:
            setattr(self.manager, self.slot, self._previous)

    def __enter__(self: F) -> F:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()

    # -- what the subclasses tell -------------------------------------------------------------

    def _found(self, expected: Expected, predicate: Predicate | None = None) -> list[Any]:
        """The recorded sends of `expected` (for which `predicate(job)` holds)."""
        raise NotImplementedError

    def _sent(self) -> list[Any]:
        raise NotImplementedError

    def _instead(self) -> str:
        """Everything that was sent, for a failure message."""
        raise NotImplementedError

    # -- the shared assertions --------------------------------------------------------------

    def _assert_sent(self, cls: Expected, predicate_or_times: Predicate | int | None) -> None:
        predicate, times = times_or_predicate(predicate_or_times)
        if times is not None:
            self._assert_sent_times(cls, times)
            return
        if not self._found(cls, predicate):
            which = " matching the predicate" if predicate else ""
            raise AssertionError(
                f"expected {name_of(cls)}{which} to be {self.verb}; {self.verb}: {self._instead()}"
            )

    def _assert_sent_times(self, cls: Expected, times: int) -> None:
        count = len(self._found(cls))
        if count != times:
            raise AssertionError(
                f"expected {name_of(cls)} to be {self.verb} {times} time(s), it was {self.verb} "
                f"{count} time(s); {self.verb}: {self._instead()}"
            )

    def _assert_not_sent(self, cls: Expected, predicate: Predicate | None) -> None:
        found = self._found(cls, predicate)
        if found:
            raise AssertionError(
                f"expected {name_of(cls)} not to be {self.verb}; it was {self.verb} "
                f"{len(found)} time(s)"
            )

    def _assert_nothing_sent(self) -> None:
        if self._sent():
            raise AssertionError(
                f"expected nothing to be {self.verb}; {self.verb}: {self._instead()}"
            )

"""What both fakes share: installing themselves on a manager, choosing the jobs they take,
and putting the real queue or bus back."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..job import Job
    from ..manager import QueueManager

F = TypeVar("F", bound="InstalledFake")


class InstalledFake:
    """A recorder set on `manager.<slot>` until `restore()` (or the end of a `with` block).
    Given classes, it takes only their jobs; `except_([...])` lets those through for real."""

    slot = ""  # the manager's attribute: "push_recorder" or "dispatch_recorder"

    def __init__(self, manager: QueueManager, jobs_to_fake: Iterable[type[Job]] = ()) -> None:
        self.manager = manager
        self.jobs_to_fake = tuple(jobs_to_fake)
        self.jobs_let_through: tuple[type[Job], ...] = ()
        self._previous: Any = getattr(manager, self.slot)
        setattr(manager, self.slot, self)

    def except_(self: F, jobs: Iterable[type[Job]]) -> F:
        self.jobs_let_through = tuple(jobs)
        return self

    def takes(self, job: Job) -> bool:
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

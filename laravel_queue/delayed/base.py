"""Interface of the delayed-job stores: park, claim due jobs, settle the claim."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from laravel_queue.messages.payload import JobMessage

# A claimed job not settled within this time (its mover died between claim and publish) is
# claimable again: moving is at least once, and exactly once while movers stay alive.
CLAIM_SECONDS = 60.0


@dataclass(frozen=True)
class Claim:
    """Due jobs taken by one mover; `token` proves the claim when settling it."""

    token: str
    messages: list[JobMessage]
    handles: list[str]


class DelayedStore(ABC):
    @abstractmethod
    def park(self, message: JobMessage, available_at: float) -> None:
        """Keep `message` until `available_at` (unix time)."""

    @abstractmethod
    def claim_due(self, connection: str, queue: str, now: float, limit: int = 100) -> Claim:
        """Take due jobs of one queue so no other mover takes them too."""

    @abstractmethod
    def settle(self, claim: Claim) -> None:
        """Forget claimed jobs once they are published to their queue."""

    @abstractmethod
    def due_size(self, connection: str, queue: str, now: float) -> int:
        """How many of the queue's jobs are due (or claimed) at `now`."""

    @abstractmethod
    def size(self, connection: str, queue: str) -> int:
        """How many jobs of the queue are waiting (claimed ones included)."""

    @abstractmethod
    def peek(self, connection: str, queue: str, limit: int) -> list[tuple[JobMessage, float]]:
        """The queue's first `limit` jobs by due time, with it, left where they are
        (claimed ones included: they are on their way to the queue)."""

    @abstractmethod
    def clear(self, connection: str, queue: str) -> int:
        """Drop the queue's delayed jobs; returns how many there were."""

"""The jobs `lq demo` runs: one succeeds, one succeeds after retries, one fails for good."""

from __future__ import annotations

from pathlib import Path

from laravel_queue.dispatchable import Job


class SendWelcomeEmail(Job):
    """Succeeds at once."""

    def __init__(self, user: str, log: str) -> None:
        self.user = user
        self.log = log

    def handle(self) -> None:
        note(self.log, f"SendWelcomeEmail({self.user}): sent on attempt {self.attempts()}")


class SyncInventory(Job):
    """Fails twice, is retried with backoff, then succeeds (Laravel: $tries, $backoff)."""

    tries = 3
    backoff = [1, 2]

    def __init__(self, warehouse: str, log: str) -> None:
        self.warehouse = warehouse
        self.log = log

    def handle(self) -> None:
        if self.attempts() < 3:
            note(
                self.log,
                f"SyncInventory({self.warehouse}): attempt {self.attempts()} "
                "failed (supplier API timeout), retrying after backoff",
            )
            raise ConnectionError("supplier API timed out")
        note(self.log, f"SyncInventory({self.warehouse}): succeeded on attempt {self.attempts()}")


class ChargeExpiredCard(Job):
    """Fails on every attempt and ends in failed_jobs, calling failed() once."""

    tries = 2

    def __init__(self, order: int, log: str) -> None:
        self.order = order
        self.log = log

    def handle(self) -> None:
        note(self.log, f"ChargeExpiredCard({self.order}): attempt {self.attempts()} declined")
        raise ValueError(f"card for order {self.order} is expired")

    def failed(self, exc: BaseException) -> None:
        note(self.log, f"ChargeExpiredCard({self.order}): failed() called with {exc!r}")


def note(log: str, line: str) -> None:
    with Path(log).open("a") as handle:
        handle.write(line + "\n")

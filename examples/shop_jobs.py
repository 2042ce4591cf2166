"""The job classes the examples run. Jobs live in an importable module, never in the script
that is run (`__main__`), so any worker process can import them by name."""

from __future__ import annotations

import tempfile
from pathlib import Path

from laravel_queue import Job, Limit, RateLimiter, ShouldBeUnique
from laravel_queue.middleware import Middleware, RateLimited

GREETINGS = Path(tempfile.mkdtemp()) / "greetings.txt"

RateLimiter.for_("reports", lambda job: Limit.per_second(2))


class Greet(Job):
    tries = 3

    def __init__(self, name: str) -> None:
        self.name = name

    def handle(self) -> None:
        with GREETINGS.open("a") as out:
            out.write(f"Hello, {self.name} (attempt {self.attempts()})\n")


class ChargeCard(Job):
    tries = 3
    backoff = [1, 2]  # 1 s after the first failure, then 2 s

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id

    def handle(self) -> None:
        raise RuntimeError(f"card for order {self.order_id} declined")

    def failed(self, exc: BaseException) -> None:
        print(f"failed() for order {self.order_id}: {exc}")


class BuildReport(Job, ShouldBeUnique):
    tries = 1

    def __init__(self, customer: str) -> None:
        self.customer = customer

    def unique_id(self) -> object:
        return self.customer

    def middleware(self) -> list[Middleware]:
        return [RateLimited("reports").release_after(0.5, count_attempt=False)]

    def handle(self) -> None:
        print(f"report for {self.customer} (attempt {self.attempts()})")

"""How the fakes compare what was sent with what a test expects, and describe the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from laravel_queue.jobs.queueable import Queueable
from laravel_queue.jobs.serialization import job_from_link

Predicate = Callable[[Any], bool]

Expected: TypeAlias = "type[Queueable] | Queueable"
"""What a test expects: a job class (any of its jobs), or a job compared by its state."""


def matches(expected: Expected, job: Queueable) -> bool:
    """A class matches its instances; an instance matches a job of the same class and state
    (Laravel compares chained instances by their properties)."""
    if isinstance(expected, type):
        return isinstance(job, expected)
    return type(job) is type(expected) and job.encode_state() == expected.encode_state()


def name_of(expected: Expected) -> str:
    cls = expected if isinstance(expected, type) else type(expected)
    return str(cls.__name__)


def chain_of(job: Queueable) -> list[Queueable]:
    """The jobs that run after `job` in its chain (a batch in the chain is left out)."""
    chain = job.options.chain
    return [job_from_link(link) for link in chain.links if "task" in link] if chain else []


def chain_matches(expected: Sequence[Expected], chain: Sequence[Queueable]) -> bool:
    return len(expected) == len(chain) and all(map(matches, expected, chain))


def times_or_predicate(value: Predicate | int | None) -> tuple[Predicate | None, int | None]:
    """Laravel's `assertPushed(cls, callback|int)`: an int means exactly that many times."""
    if isinstance(value, int) and not isinstance(value, bool):
        return None, value
    if value is None or callable(value):
        return value, None
    raise TypeError(f"expected a predicate or a number of times, got {value!r}")


def describe(jobs: Sequence[tuple[Queueable, str]]) -> str:
    """`SendInvoice (redis:default), ...` for a failure message; "nothing" when empty."""
    if not jobs:
        return "nothing"
    return ", ".join(f"{type(job).__name__} ({where})" for job, where in jobs)

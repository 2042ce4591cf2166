"""Debounced jobs (Laravel 13: `#[DebounceFor]`, `Bus\\DebounceLock`, `JobDebounced`).

Each dispatch of a debounced job writes a fresh owner token to
`debounced_job:<class path>:<debounce_id>` in the cache store and is queued `debounce_for`
seconds later (unless it was given a delay of its own). When a worker takes a copy whose
token is no longer the one stored, a later dispatch replaced it: the copy ends without
running (`JobDebounced`, status `debounced`). Last writer wins, as with Laravel's key: of any
number of processes dispatching at once, the one whose write lands last owns the run.

`debounce_max_wait` bounds a burst that never pauses: the first dispatch of a burst stamps
`...:first_dispatched_at`; the first dispatch past `max_wait` after it goes with no delay and
starts a new burst. A key that is gone (expired, evicted) lets every copy run: fail open.
"""

from __future__ import annotations

import secrets
import time

from laravel_queue.bus.unique import ShouldBeUnique
from laravel_queue.cache.base import CacheStore
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.jobs.options import Debounce
from laravel_queue.jobs.queueable import Queueable, debounce_options
from laravel_queue.messages.payload import LqHeader

KEY_PREFIX = "debounced_job:"
MIN_KEY_SECONDS = 300.0  # Laravel: max(debounceFor x 10, 300)


def class_debounce(cls: type[Queueable]) -> Debounce | None:
    """The class's `debounce_for`/`debounce_max_wait`, checked (at class creation, so a bad
    value is refused at import, not at the first dispatch)."""
    if cls.debounce_for is None:
        if cls.debounce_max_wait is not None:
            raise ConfigurationError(
                f"{cls.__qualname__} sets debounce_max_wait without debounce_for"
            )
        return None
    if issubclass(cls, ShouldBeUnique):
        raise ConfigurationError(
            f"{cls.__qualname__} is both unique and debounced: a unique job's later "
            "dispatches are dropped, so none could replace the first; choose one"
        )
    return debounce_options(cls.debounce_for, cls.debounce_max_wait, cls.__qualname__)


def debounce_of(job: Queueable) -> Debounce | None:
    """How `job` is debounced: `job.debounce(...)`, else its class's settings."""
    chosen = job.options.debounce
    if chosen is not None and isinstance(job, ShouldBeUnique):
        raise ConfigurationError(
            f"{type(job).__qualname__} is unique: it cannot be debounced (a unique job's later "
            "dispatches are dropped, so none could replace the first)"
        )
    return chosen or class_debounce(type(job))


def take_the_last_dispatch(job: Queueable, debounce: Debounce, cache: CacheStore) -> None:
    """Make this dispatch of `job` the one that runs, unless a later one replaces it: its
    token goes into the key (and into the job's header), and it waits `debounce.seconds` —
    or nothing, once the burst has lasted `max_wait`."""
    key = f"{KEY_PREFIX}{job.display_name()}:{job.debounce_id()}"
    ttl = max(debounce.seconds * 10, MIN_KEY_SECONDS)
    now = time.time()
    overdue = False
    if debounce.max_wait is not None:
        first_key = f"{key}:first_dispatched_at"
        if not cache.add(first_key, repr(now), ttl):
            first = cache.get(first_key)
            overdue = first is not None and now - float(first) >= debounce.max_wait
            if overdue:
                cache.forget(first_key)  # the next dispatch starts a new burst
    token = secrets.token_hex(20)
    cache.put(key, token, ttl)
    job.options.debounce_owner = [key, token]
    if job.options.delay is None:  # a delay of the job's own wins (Laravel's rule)
        job.options.delay = 0 if overdue else debounce.seconds


def replaced_by_a_later_dispatch(header: LqHeader, cache: CacheStore) -> bool:
    """Whether the job of `header` was debounced away: its key holds another token."""
    if header.debounce is None:
        return False
    key, token = header.debounce
    current = cache.get(key)
    return current is not None and current != token

"""Where the metrics live in the cache store, and how they are read back.

- one hash per minute, `metrics:minute:<unix minute>`: a field per series per worker
  process, holding that process's tally of that minute (rewritten whole, so a write that is
  lost is made good by the next); it expires `window` seconds after the minute;
- one hash of totals, `metrics:totals`: counters by outcome and series, and the sums of the
  run and wait times in microseconds, only ever increased (what Prometheus reads as
  counters, which must never go down as old minutes expire);
- one hash of the monitored tags, `metrics:tags` (Horizon's monitored tags): only a tag
  named there gets series of its own, so tags made of ids cannot grow the store without end.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from laravel_queue.cache.base import CacheStore
from laravel_queue.metrics.series import OUTCOMES, Series, Tally

logger = logging.getLogger("laravel_queue")

MINUTE = "metrics:minute:{}"
TOTALS = "metrics:totals"
TAGS = "metrics:tags"
MEASURES = (*OUTCOMES, "runtime_us", "wait_us")
"""What the totals count for each series: runs by outcome, and run and wait time summed."""


@dataclass(frozen=True)
class Total:
    """One counter of the totals: `measure` (an outcome, or `runtime_us`/`wait_us`) of a
    series (whose `tag` is always empty)."""

    measure: str
    series: Series

    def field(self) -> str:
        s = self.series
        return json.dumps([self.measure, s.connection, s.queue, s.job])

    @classmethod
    def from_field(cls, text: str) -> Total:
        parts = json.loads(text)
        if not (isinstance(parts, list) and len(parts) == 4 and parts[0] in MEASURES):
            raise ValueError(f"not a metrics total: {text!r}")
        return cls(str(parts[0]), Series(*(str(part) for part in parts[1:])))


class MetricsStore:
    def __init__(self, cache: CacheStore, window: float) -> None:
        self.cache = cache
        self.window = window

    def write(self, minutes: dict[int, dict[str, str]], totals: dict[Total, int]) -> None:
        """Each minute's fields (`Series.field` → `Tally.to_json`), and the totals' increments."""
        for minute, values in minutes.items():
            if values:
                ttl = (minute + 1) * 60 + self.window - time.time()
                self.cache.put_fields(MINUTE.format(minute), values, max(ttl, 1.0))
        if totals:
            self.cache.increment_fields(
                TOTALS, {total.field(): amount for total, amount in totals.items() if amount}
            )

    def minutes(self, first: int, last: int) -> Iterator[tuple[int, Series, Tally]]:
        """Every tally of the minutes `first`..`last` (unix minutes), field by field; a field
        that cannot be read is skipped (and logged)."""
        names = [MINUTE.format(minute) for minute in range(first, last + 1)]
        for minute, values in zip(range(first, last + 1), self.cache.fields_of(names), strict=True):
            for field, text in values.items():
                try:
                    yield minute, Series.from_field(field), Tally.from_json(text)
                except (ValueError, TypeError, KeyError) as exc:
                    logger.debug("unreadable metrics field %s: %r", field, exc)

    def totals(self) -> dict[Total, int]:
        found: dict[Total, int] = {}
        for field, value in self.cache.fields(TOTALS).items():
            try:
                found[Total.from_field(field)] = int(value)
            except (ValueError, TypeError):
                logger.debug("unreadable metrics total %s", field)
        return found

    # -- monitored tags (Horizon: horizon:monitor) ------------------------------------------

    def monitor(self, tag: str) -> None:
        self.cache.put_field(TAGS, tag, "1")

    def stop_monitoring(self, tag: str) -> None:
        self.cache.forget_field(TAGS, tag)

    def monitored(self) -> set[str]:
        return set(self.cache.fields(TAGS))

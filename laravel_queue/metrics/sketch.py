"""A distribution of seconds (run times, wait times) as a DDSketch.

Why DDSketch (Datadog's `ddsketch`): its quantiles have a *relative* error bound (1 % here,
so a p99 of 2 s reads between 1.98 and 2.02 s whatever the spread), two sketches merge by
adding their bucket counts — exactly, so the p95 of an hour is the p95 of its sixty minutes
and of every worker, never an average of averages — and its size is bounded (a few hundred
buckets for anything from a millisecond to an hour). A t-digest merges only approximately,
and an HDR histogram needs its range fixed in advance.
"""

from __future__ import annotations

from typing import Any

from ddsketch import LogCollapsingLowestDenseDDSketch

RELATIVE_ACCURACY = 0.01
BIN_LIMIT = 2048
"""The most buckets a sketch keeps; past it the lowest collapse (a p1 loses accuracy, never a
p99)."""


class Distribution:
    """Seconds observed, as a mergeable sketch; `to_dict`/`from_dict` carry it as JSON."""

    __slots__ = ("sketch",)

    def __init__(self) -> None:
        self.sketch = LogCollapsingLowestDenseDDSketch(RELATIVE_ACCURACY, BIN_LIMIT)

    def add(self, seconds: float) -> None:
        self.sketch.add(max(seconds, 0.0))

    def merge(self, other: Distribution) -> None:
        if other.count:
            self.sketch.merge(other.sketch)

    @property
    def count(self) -> int:
        return int(self.sketch.count)

    @property
    def sum(self) -> float:
        return float(self.sketch.sum)

    def quantile(self, q: float) -> float | None:
        """The value at quantile `q` (0.95 for p95), within 1 %; None when empty."""
        value = self.sketch.get_quantile_value(q)
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        """The buckets that hold anything, by key, with the exact count, sum, min and max.

        The library's own serialisation needs protobuf; this reads the sketch's store (its
        bins from `offset`), which is pinned with the library's major version."""
        sketch = self.sketch
        store = sketch._store
        bins = store.bins
        used = [i for i, weight in enumerate(bins) if weight]
        first, last = (used[0], used[-1]) if used else (0, -1)
        return {
            "n": _compact(sketch._count),
            "s": sketch._sum,
            "lo": sketch._min if sketch._count else 0.0,
            "hi": sketch._max if sketch._count else 0.0,
            "z": _compact(sketch._zero_count),
            "o": store.offset + first,
            "b": [_compact(weight) for weight in bins[first : last + 1]],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Distribution:
        """The distribution `to_dict` gave (`ValueError`/`TypeError`/`KeyError` if malformed)."""
        made = cls()
        sketch = made.sketch
        offset = int(data["o"])
        for index, weight in enumerate(data["b"]):
            if weight:
                sketch._store.add(offset + index, float(weight))
        sketch._zero_count = float(data["z"])
        sketch._count = float(data["n"])
        sketch._sum = float(data["s"])
        if sketch._count:
            sketch._min, sketch._max = float(data["lo"]), float(data["hi"])
        return made


def _compact(weight: float) -> float | int:
    """Counts are whole numbers: written as such they take half the bytes."""
    return int(weight) if weight == int(weight) else weight

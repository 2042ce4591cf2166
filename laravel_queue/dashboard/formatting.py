"""How the pages write numbers and times: short, and the same everywhere."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

UNKNOWN = "\N{EN DASH}"


def seconds(value: float | None) -> str:
    """A duration: `850 ms`, `4.2 s`, `3m05s`, `2h10m`; `UNKNOWN` when unknown."""
    if value is None:
        return UNKNOWN
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    whole = int(value)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def ago(moment: float | None) -> str:
    """How long before now a unix time was: `3 s ago`."""
    if not moment:
        return UNKNOWN
    return f"{seconds(max(0.0, time.time() - moment))} ago"


def count(value: float | None) -> str:
    """A count or rate with thousands separators; `UNKNOWN` when the broker cannot tell."""
    if value is None:
        return UNKNOWN
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def percent(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value * 100:.1f} %"


FILTERS: dict[str, Callable[..., Any]] = {
    "seconds": seconds,
    "ago": ago,
    "count": count,
    "percent": percent,
}

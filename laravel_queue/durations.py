"""Turn the ways a user can say "how long" or "until when" into seconds.

Laravel accepts seconds, `DateInterval` and `DateTime` wherever a delay is taken; we accept
seconds, `timedelta` and (timezone-aware or naive-UTC) `datetime` the same way.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

Delay = float | int | timedelta | datetime


def to_seconds(value: Delay | None) -> float:
    """Seconds from now that `value` stands for; never negative."""
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, datetime):
        seconds = to_timestamp(value) - time.time()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(f"expected seconds, a timedelta or a datetime, got {value!r}")
    return max(0.0, seconds)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | Delay) -> float:
    """Seconds in `"90s"`, `"15m"`, `"1h"`, `"2d"` or a plain number of seconds (what a
    command line's `--since` takes), or in any `Delay`; `ValueError` names what it takes."""
    if not isinstance(text, str):
        return to_seconds(text)
    cleaned = text.strip().lower()
    unit = _UNITS.get(cleaned[-1:])
    number = cleaned[:-1] if unit is not None else cleaned
    try:
        return max(0.0, float(number) * (unit or 1))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a duration: give seconds or a number with s, m, h or d (15m, 1h)"
        ) from None


def to_timestamp(moment: datetime) -> float:
    """Unix time of `moment`; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def hard_limit(timeout: float) -> float:
    """Celery's hard time limit: a backstop a little after the soft limit the job sees."""
    return timeout + max(5.0, timeout * 0.1)


# "No time limit" for a job with timeout = 0 (Celery treats 0 as "use the default").
NO_LIMIT_SECONDS = 10 * 365 * 24 * 3600


def time_limits(timeout: float) -> tuple[float, float]:
    """Celery's (time_limit, soft_time_limit) for a job's `timeout` (0: none)."""
    soft = timeout or NO_LIMIT_SECONDS
    return hard_limit(soft), soft


def readable(seconds: float) -> str:
    """A duration for a log line, rounded to what a reader can use: `0.8ms`, `12ms`, `1.25s`,
    `75s`."""
    if seconds < 0.01:
        return f"{seconds * 1000:.1f}ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.0f}s"

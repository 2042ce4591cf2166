"""When a scheduled event is due: Laravel's `ManagesFrequencies`, as a cron expression.

Each method sets some fields of the expression and keeps the others, so they combine as in
Laravel: `.weekdays().daily_at("02:00")` is `0 0 2 * * 1-5`. The expression has six fields,
seconds first (`second minute hour day-of-month month day-of-week`): Laravel's `everySecond`
… `everyThirtySeconds` are the seconds field. It is read by `cronsim` (the parser of
healthchecks.io): well kept, small, and it follows Debian cron's rules across daylight-saving
changes, which `docs/scheduling.md` spells out.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from laravel_queue.exceptions import ConfigurationError

F = TypeVar("F", bound="Frequencies")

POSITIONS = {"second": 0, "minute": 1, "hour": 2, "day": 3, "month": 4, "weekday": 5}
TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
DAY_NAMES = ("sundays", "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays")


def parse_time(text: str) -> tuple[int, int, int]:
    """`"2:30"`, `"14:05"` or `"14:05:30"` as (hour, minute, second); a clear error else."""
    found = TIME.match(text.strip())
    if found is not None:
        hour, minute, second = (int(part or 0) for part in found.groups())
        if hour < 24 and minute < 60 and second < 60:
            return hour, minute, second
    raise ConfigurationError(f"not a time of day: {text!r} (write it as 'HH:MM' or 'HH:MM:SS')")


def check_cron(expression: str) -> str:
    """The expression, once cronsim accepts it (5 fields, or 6 with seconds first)."""
    try:
        CronSim(expression, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ConfigurationError(f"not a cron expression: {expression!r} ({exc})") from None
    return expression


class Frequencies:
    """The fluent frequency methods of a scheduled event (Laravel: ManagesFrequencies)."""

    def __init__(self) -> None:
        self.fields = ["0", "*", "*", "*", "*", "*"]  # every minute, at its first second
        self.zone: ZoneInfo | None = None

    @property
    def expression(self) -> str:
        """The cron expression, with seconds: `0 30 2 * * *`."""
        return " ".join(self.fields)

    @property
    def cron_expression(self) -> str:
        """What cronsim reads: five fields when the event runs at a minute's first second, so
        that Debian cron's daylight-saving rules apply (cronsim applies them only then)."""
        return " ".join(self.fields[1:]) if self.fields[0] == "0" else self.expression

    def _set(self: F, **fields: object) -> F:
        for name, value in fields.items():
            self.fields[POSITIONS[name]] = str(value)
        return self

    def cron(self: F, expression: str) -> F:
        """Any cron expression: five fields, or six with the seconds first."""
        parts = check_cron(expression).split()
        self.fields = parts if len(parts) == 6 else ["0", *parts]
        return self

    def timezone(self: F, name: str) -> F:
        """Read the expression in this IANA time zone (Laravel: `->timezone('Europe/Berlin')`)."""
        try:
            self.zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"not a time zone: {name!r} (use an IANA name)") from None
        return self

    # -- seconds (Laravel 11's sub-minute events) ------------------------------------------

    def _every_seconds(self: F, seconds: int) -> F:
        return self._set(second="*" if seconds == 1 else f"*/{seconds}", minute="*", hour="*")

    def every_second(self: F) -> F:
        return self._every_seconds(1)

    def every_two_seconds(self: F) -> F:
        return self._every_seconds(2)

    def every_five_seconds(self: F) -> F:
        return self._every_seconds(5)

    def every_ten_seconds(self: F) -> F:
        return self._every_seconds(10)

    def every_fifteen_seconds(self: F) -> F:
        return self._every_seconds(15)

    def every_twenty_seconds(self: F) -> F:
        return self._every_seconds(20)

    def every_thirty_seconds(self: F) -> F:
        return self._every_seconds(30)

    # -- minutes and hours -----------------------------------------------------------------

    def _every_minutes(self: F, minutes: int) -> F:
        return self._set(second=0, minute="*" if minutes == 1 else f"*/{minutes}")

    def every_minute(self: F) -> F:
        return self._every_minutes(1)

    def every_two_minutes(self: F) -> F:
        return self._every_minutes(2)

    def every_three_minutes(self: F) -> F:
        return self._every_minutes(3)

    def every_four_minutes(self: F) -> F:
        return self._every_minutes(4)

    def every_five_minutes(self: F) -> F:
        return self._every_minutes(5)

    def every_ten_minutes(self: F) -> F:
        return self._every_minutes(10)

    def every_fifteen_minutes(self: F) -> F:
        return self._every_minutes(15)

    def every_thirty_minutes(self: F) -> F:
        return self._every_minutes(30)

    def hourly(self: F) -> F:
        return self._set(second=0, minute=0)

    def hourly_at(self: F, *minutes: int) -> F:
        """At these minutes past every hour: `.hourly_at(17)`, `.hourly_at(0, 30)`."""
        if not minutes or any(not 0 <= m < 60 for m in minutes):
            raise ConfigurationError(f"hourly_at needs minutes from 0 to 59, not {minutes}")
        return self._set(second=0, minute=",".join(map(str, minutes)))

    def _every_hours(self: F, hours: int, minute: int = 0) -> F:
        return self._set(second=0, minute=minute, hour=f"*/{hours}")

    def every_two_hours(self: F, minute: int = 0) -> F:
        return self._every_hours(2, minute)

    def every_three_hours(self: F, minute: int = 0) -> F:
        return self._every_hours(3, minute)

    def every_four_hours(self: F, minute: int = 0) -> F:
        return self._every_hours(4, minute)

    def every_six_hours(self: F, minute: int = 0) -> F:
        return self._every_hours(6, minute)

    # -- days ------------------------------------------------------------------------------

    def daily(self: F) -> F:
        return self.daily_at("0:00")

    def daily_at(self: F, time: str) -> F:
        """Every day at `time` (`"02:00"`, `"14:05:30"`), in the event's time zone."""
        hour, minute, second = parse_time(time)
        return self._set(second=second, minute=minute, hour=hour)

    def twice_daily(self: F, first: int = 1, second: int = 13, minute: int = 0) -> F:
        return self._set(second=0, minute=minute, hour=f"{first},{second}")

    def days(self: F, *days: int) -> F:
        """On these days of the week, 0 (Sunday) to 6 (Saturday)."""
        if not days or any(not 0 <= day <= 6 for day in days):
            raise ConfigurationError(f"days are 0 (Sunday) to 6 (Saturday), not {days}")
        return self._set(weekday=",".join(map(str, days)))

    def weekdays(self: F) -> F:
        return self._set(weekday="1-5")

    def weekends(self: F) -> F:
        return self._set(weekday="0,6")

    def sundays(self: F) -> F:
        return self.days(0)

    def mondays(self: F) -> F:
        return self.days(1)

    def tuesdays(self: F) -> F:
        return self.days(2)

    def wednesdays(self: F) -> F:
        return self.days(3)

    def thursdays(self: F) -> F:
        return self.days(4)

    def fridays(self: F) -> F:
        return self.days(5)

    def saturdays(self: F) -> F:
        return self.days(6)

    def weekly(self: F) -> F:
        return self.weekly_on(0)

    def weekly_on(self: F, day: int, time: str = "0:00") -> F:
        return self.days(day).daily_at(time)

    def monthly(self: F) -> F:
        return self.monthly_on(1)

    def monthly_on(self: F, day: int = 1, time: str = "0:00") -> F:
        if not 1 <= day <= 31:
            raise ConfigurationError(f"a day of the month is 1 to 31, not {day}")
        return self.daily_at(time)._set(day=day)

    def last_day_of_month(self: F, time: str = "0:00") -> F:
        return self.daily_at(time)._set(day="L")

    def quarterly(self: F) -> F:
        return self.daily_at("0:00")._set(day=1, month="1-12/3")

    def yearly(self: F) -> F:
        return self.daily_at("0:00")._set(day=1, month=1)

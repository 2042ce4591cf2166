"""What each frequency method writes into an event's cron expression, and bad input refused
when the schedule is declared."""

from __future__ import annotations

import pytest

from laravel_queue import Schedule, callback
from laravel_queue.exceptions import ConfigurationError
from laravel_queue.scheduling.event import ScheduledEvent

from .. import jobs


def event() -> ScheduledEvent:
    return ScheduledEvent(jobs.Traced("/dev/null"), "test")


@pytest.mark.parametrize(
    ("declare", "expression"),
    [
        (lambda e: e, "0 * * * * *"),
        (lambda e: e.every_second(), "* * * * * *"),
        (lambda e: e.every_thirty_seconds(), "*/30 * * * * *"),
        (lambda e: e.every_five_minutes(), "0 */5 * * * *"),
        (lambda e: e.hourly_at(17), "0 17 * * * *"),
        (lambda e: e.every_two_hours(15), "0 15 */2 * * *"),
        (lambda e: e.daily_at("02:00"), "0 0 2 * * *"),
        (lambda e: e.daily_at("14:05:30"), "30 5 14 * * *"),
        (lambda e: e.weekdays().daily_at("02:00"), "0 0 2 * * 1-5"),
        (lambda e: e.daily_at("02:00").weekdays(), "0 0 2 * * 1-5"),
        (lambda e: e.twice_daily(1, 13), "0 0 1,13 * * *"),
        (lambda e: e.weekly_on(1, "8:00"), "0 0 8 * * 1"),
        (lambda e: e.monthly_on(4, "15:00"), "0 0 15 4 * *"),
        (lambda e: e.last_day_of_month(), "0 0 0 L * *"),
        (lambda e: e.quarterly(), "0 0 0 1 1-12/3 *"),
        (lambda e: e.cron("*/5 * * * *"), "0 */5 * * * *"),
        (lambda e: e.cron("*/10 * * * * *"), "*/10 * * * * *"),
    ],
)
def test_each_frequency_sets_its_fields_and_keeps_the_others(declare, expression) -> None:  # type: ignore[no-untyped-def]
    assert declare(event()).expression == expression


@pytest.mark.parametrize(
    ("declare", "named"),
    [
        (lambda e: e.cron("61 * * * *"), "'61 * * * *'"),
        (lambda e: e.cron("every day"), "'every day'"),
        (lambda e: e.daily_at("25:00"), "'25:00'"),
        (lambda e: e.daily_at("2pm"), "'2pm'"),
        (lambda e: e.timezone("Mars/Olympus"), "'Mars/Olympus'"),
        (lambda e: e.between("8:00", "late"), "'late'"),
        (lambda e: e.hourly_at(60), "60"),
    ],
)
def test_bad_input_is_refused_when_declared_naming_it(declare, named) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match=named.replace("*", r"\*")):
        declare(event())


@callback
def prune() -> None:
    """A module-level @callback: what Schedule.call() takes."""


def not_a_callback() -> None:
    """Never decorated: no worker may call it."""


def test_call_takes_only_callback_functions() -> None:
    try:
        scheduled = Schedule.call(prune).hourly()
        assert scheduled.description == "tests.scheduling.test_frequencies.prune"
        with pytest.raises(TypeError, match="lambda"):
            Schedule.call(lambda: None)
        with pytest.raises(TypeError, match="not decorated with @callback"):
            Schedule.call(not_a_callback)
        with pytest.raises(TypeError):
            Schedule.job(jobs.Traced)  # type: ignore[arg-type]  # the class, not an instance
    finally:
        Schedule.clear()

"""The TARGET2 calendar: the days the ECB publishes euro reference rates.

The ECB publishes on every TARGET business day, Monday to Friday except the system's closing days:
New Year's Day, Good Friday, Easter Monday, 1 May (Labour Day), 25 and 26 December.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from dateutil.easter import easter


@cache
def target_closing_days(year: int) -> frozenset[date]:
    """The weekday-independent TARGET2 closing days of `year`."""
    easter_sunday = easter(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter_sunday - timedelta(days=2),  # Good Friday
            easter_sunday + timedelta(days=1),  # Easter Monday
            date(year, 5, 1),
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_target_business_day(day: date) -> bool:
    """True on the days the ECB publishes reference rates (TARGET2 is open)."""
    return day.weekday() < 5 and day not in target_closing_days(day.year)


def target_business_days(after: date, through: date) -> list[date]:
    """The TARGET business days in (after, through], oldest first."""
    count = (through - after).days
    days = (after + timedelta(days=offset) for offset in range(1, count + 1))
    return [day for day in days if is_target_business_day(day)]


def last_target_business_day_before(day: date) -> date:
    """The latest TARGET business day strictly before `day`."""
    previous = day - timedelta(days=1)
    while not is_target_business_day(previous):
        previous -= timedelta(days=1)
    return previous

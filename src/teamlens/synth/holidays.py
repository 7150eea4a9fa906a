"""Company-wide holidays and the share of people on leave, per ISO week.

Weekly reports cannot show weekdays or evenings, but they do show holidays: a week with a public
holiday has fewer working days, and more people take the whole week off around Easter, in the
summer and at the turn of the year. The calendar is one company-wide set (Good Friday, Easter
Monday, early and late May, a summer shutdown week, late August, Christmas to New Year) rather
than each location's own, which keeps the signal easy to see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

#: Share of people who take an ordinary week off.
BASE_LEAVE = 0.05
_SUMMER_LEAVE = 0.15  # ISO weeks 27–35
_SHUTDOWN_LEAVE = 0.45  # the company's summer shutdown week
_EASTER_LEAVE = 0.15
_YEAR_END_LEAVE = 0.55


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    last = (date(year, month % 12 + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def public_holidays(year: int) -> frozenset[date]:
    """The company's holidays in ``year`` (a UK-style calendar plus a year-end shutdown)."""
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _first_monday(year, 5),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    days.update(date(year, 12, d) for d in range(24, 32))
    return frozenset(day for day in days if day.weekday() < 5)


def _summer_shutdown(year: int) -> date:
    """Monday of the company's summer shutdown week: the first full week of August."""
    return _first_monday(year, 8)


@dataclass(frozen=True)
class WeekCalendar:
    """What the calendar does to one ISO week's activity."""

    monday: date
    holidays: tuple[int, ...]  # weekday numbers (0 = Monday) that are company holidays
    leave_share: float  # probability that a person takes the whole week off

    @property
    def working_share(self) -> float:
        """Share of the five working days that are not company holidays."""
        return (5 - len(self.holidays)) / 5


def week_calendar(monday: date) -> WeekCalendar:
    """The holidays and leave share of the ISO week starting ``monday``."""
    days = [monday + timedelta(days=i) for i in range(7)]
    holidays = tuple(i for i, day in enumerate(days[:5]) if day in public_holidays(day.year))
    week = monday.isocalendar().week
    leave = BASE_LEAVE
    if 27 <= week <= 35:
        leave = _SUMMER_LEAVE
    if monday == _summer_shutdown(monday.year) or monday == _summer_shutdown(days[-1].year):
        leave = _SHUTDOWN_LEAVE
    easter = easter_sunday(days[3].year)
    if -6 <= (monday - easter).days <= 1:  # the weeks of Good Friday and of Easter Monday
        leave = _EASTER_LEAVE
    if any((day.month == 12 and day.day >= 24) or (day.month == 1 and day.day <= 2) for day in days):
        leave = _YEAR_END_LEAVE
    return WeekCalendar(monday=monday, holidays=holidays, leave_share=leave)

"""Fixed calendar windows: every release window is a whole number of ISO weeks.

A week runs Monday to Sunday. A month is the set of ISO weeks whose Thursday falls in that
calendar month (so it has 4 or 5 whole weeks, like the ISO rule that gives a week to a year),
and a quarter likewise. Weekly source facts therefore fall in exactly one window of every
cadence, and no window can be shifted or shortened: arbitrary and rolling ranges are not
expressible (attack A3 in the privacy requirements).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

_ONE_WEEK = dt.timedelta(days=7)


class Cadence(enum.StrEnum):
    """How long a release window is."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


def monday_of(day: dt.date) -> dt.date:
    """The Monday of the ISO week that contains ``day``."""
    return day - dt.timedelta(days=day.weekday())


def _thursday(monday: dt.date) -> dt.date:
    return monday + dt.timedelta(days=3)


@dataclass(frozen=True, order=True)
class Window:
    """One fixed release window, identified by its cadence and key ("2026-W05", "2026-03", "2026-Q1")."""

    cadence: Cadence
    key: str

    def __post_init__(self) -> None:
        pattern = {
            Cadence.WEEK: r"\d{4}-W\d{2}",
            Cadence.MONTH: r"\d{4}-\d{2}",
            Cadence.QUARTER: r"\d{4}-Q[1-4]",
        }[self.cadence]
        if not re.fullmatch(pattern, self.key):
            raise ValueError(f"'{self.key}' is not a {self.cadence.value} window key")
        if not self.weeks:
            raise ValueError(f"'{self.key}' is not a valid {self.cadence.value}")

    @classmethod
    def containing(cls, day: dt.date, cadence: Cadence) -> Window:
        """The window of ``cadence`` that holds ``day`` (through its ISO week)."""
        thursday = _thursday(monday_of(day))
        if cadence is Cadence.WEEK:
            year, week, _ = day.isocalendar()
            return cls(cadence, f"{year}-W{week:02d}")
        if cadence is Cadence.MONTH:
            return cls(cadence, f"{thursday.year}-{thursday.month:02d}")
        return cls(cadence, f"{thursday.year}-Q{(thursday.month - 1) // 3 + 1}")

    @classmethod
    def parse(cls, text: str) -> Window:
        """Read a window key, guessing the cadence from its shape."""
        for cadence in Cadence:
            try:
                return cls(cadence, text)
            except ValueError:
                continue
        raise ValueError(f"'{text}' is not a window key (expected 2026-W05, 2026-03 or 2026-Q1)")

    @cached_property
    def weeks(self) -> tuple[dt.date, ...]:
        """The Mondays of the ISO weeks in this window, in order."""
        if self.cadence is Cadence.WEEK:
            iso_year, week = self.key.split("-W")
            try:
                return (dt.date.fromisocalendar(int(iso_year), int(week), 1),)
            except ValueError:
                return ()
        if self.cadence is Cadence.MONTH:
            year, month = (int(part) for part in self.key.split("-"))
            if not 1 <= month <= 12:
                return ()
            months = {month}
        else:
            year_text, quarter = self.key.split("-Q")
            year = int(year_text)
            first = 3 * (int(quarter) - 1) + 1
            months = {first, first + 1, first + 2}
        first_day = dt.date(year, min(months), 1)
        monday = monday_of(first_day) - _ONE_WEEK
        mondays = []
        while monday <= first_day + dt.timedelta(days=100):
            thursday = _thursday(monday)
            if thursday.year == year and thursday.month in months:
                mondays.append(monday)
            monday += _ONE_WEEK
        return tuple(mondays)

    @property
    def start(self) -> dt.date:
        """First day (a Monday) of the window."""
        return self.weeks[0]

    @property
    def end(self) -> dt.date:
        """The day after the window's last day (a Monday)."""
        return self.weeks[-1] + _ONE_WEEK

    @property
    def n_weeks(self) -> int:
        """How many ISO weeks the window holds (1, 4, 5, 13 or 14)."""
        return len(self.weeks)

    def __str__(self) -> str:
        return self.key


@lru_cache(maxsize=1024)
def windows_between(start: dt.date, end: dt.date, cadence: Cadence) -> tuple[Window, ...]:
    """Every window of ``cadence`` lying wholly inside the half-open range [start, end)."""
    found: list[Window] = []
    monday = monday_of(start)
    if monday < start:
        monday += _ONE_WEEK
    while monday < end:
        window = Window.containing(monday, cadence)
        if window.start >= start and window.end <= end and (not found or found[-1] != window):
            found.append(window)
        monday += _ONE_WEEK
    return tuple(found)

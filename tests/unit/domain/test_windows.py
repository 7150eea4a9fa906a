from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teamlens.domain import Cadence, Window, windows_between


def test_iso_week_keys_and_bounds() -> None:
    week = Window.containing(dt.date(2026, 1, 1), Cadence.WEEK)
    assert week.key == "2026-W01"
    assert week.start == dt.date(2025, 12, 29)
    assert week.end == dt.date(2026, 1, 5)


def test_month_is_the_weeks_whose_thursday_falls_in_it() -> None:
    january = Window(Cadence.MONTH, "2026-01")
    assert january.start == dt.date(2025, 12, 29)  # Thursday 1 January
    assert january.n_weeks == 5
    assert Window(Cadence.MONTH, "2026-02").start == dt.date(2026, 2, 2)


def test_quarters_hold_13_or_14_weeks() -> None:
    assert {Window(Cadence.QUARTER, f"2026-Q{q}").n_weeks for q in range(1, 5)} <= {13, 14}


@pytest.mark.parametrize("key", ["2026-W54", "2026-13", "2026-Q5", "2026-00", "yesterday", "2026-W5"])
def test_impossible_windows_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="window"):
        Window.parse(key)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)), st.sampled_from(list(Cadence)))
def test_every_day_lies_in_exactly_the_window_that_contains_it(day: dt.date, cadence: Cadence) -> None:
    window = Window.containing(day, cadence)
    assert window.start <= day < window.end
    assert Window.parse(window.key) == window


@given(st.integers(min_value=2001, max_value=2098))
def test_months_of_a_year_tile_its_iso_weeks(year: int) -> None:
    weeks = [
        monday for month in range(1, 13) for monday in Window(Cadence.MONTH, f"{year}-{month:02d}").weeks
    ]
    assert weeks == sorted(set(weeks))
    assert len(weeks) == dt.date(year, 12, 28).isocalendar()[1]


def test_windows_between_takes_only_whole_windows() -> None:
    months = windows_between(dt.date(2026, 1, 5), dt.date(2026, 7, 6), Cadence.MONTH)
    assert [w.key for w in months] == ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert len(windows_between(dt.date(2026, 1, 5), dt.date(2026, 7, 6), Cadence.WEEK)) == 26

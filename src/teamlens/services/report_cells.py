"""How one released cell reads, in the HTML report and on the command line alike.

A cell reads in one of these ways (``Reading``), decided from the released cell alone:

- **suppressed**: "fewer than k people", and nothing else (attack A9);
- **uncertain**: "too uncertain at this budget", and no number: the 95% interval its group gets at
  a typical value of the metric (half its bound) is wider than half that value, so acting on it
  would be acting on noise (decided from the group's size and planned noise, never from the
  figure's own noise: ``privacy.assemble``);
- **at zero** / **at the bound**: the raw estimate fell below 0 (above the most one person can
  add) and the value is shown at that edge with a one-sided interval: "0.0 (up to 3.2)",
  "20.0 (at least 17.5)";
- **value**: "6.2" with its 95% interval "5.8–6.6";
- **exact**: no noise at all, which only a test installation's infinite budget gives.

A table prints its numbers to the precision its intervals support (``table_decimals``: no
decimals when intervals are tens wide, one when they are units wide, …), and a cell takes more
decimals when that precision would print both ends of its interval alike: no interval is ever
shown zero-width, and nothing reads "±0.0".
"""

from __future__ import annotations

import datetime as dt
import enum
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from teamlens.domain import Cadence, ReleasedCell, Window

#: What a cell too uncertain to act on says instead of a number.
UNCERTAIN_TEXT = "too uncertain at this budget"
#: Most decimals tried to keep an interval's two ends apart; equal beyond this means no noise.
_MAX_DECIMALS = 6


class Reading(enum.StrEnum):
    """How a released cell is read (see the module docstring)."""

    VALUE = "value"
    AT_ZERO = "at-zero"
    AT_BOUND = "at-bound"
    EXACT = "exact"
    UNCERTAIN = "uncertain"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class CellText:
    """One cell as people read it: ``value`` (a number or a phrase) and ``interval`` (may be "").

    ``number`` is the value as a float for charts; None when no number may be shown.
    """

    reading: Reading
    value: str
    interval: str = ""
    number: float | None = None
    lower: float | None = None
    upper: float | None = None

    @property
    def worth_reading(self) -> bool:
        """True when the cell shows a number (it is neither suppressed nor too uncertain)."""
        return self.number is not None

    def plain(self) -> str:
        """The cell on one line: "6.2 (5.8–6.6)", "0.0 (up to 3.2)" or the phrase."""
        return f"{self.value} ({self.interval})" if self.interval else self.value


def fewer_than(min_group_size: int) -> str:
    """What a suppressed cell says."""
    return f"fewer than {min_group_size} people"


def number(value: float, decimals: int = 1) -> str:
    """A figure as printed: thousands separated, ``decimals`` places."""
    return f"{value:,.{decimals}f}"


def table_decimals(cells: Iterable[ReleasedCell]) -> int:
    """Decimals for a table of ``cells``: what the typical half-width of their intervals supports.

    Two significant digits of the median half-width, at most: 0 decimals from 10 up, 1 from
    0.5, 2 from 0.05, else 3. Cells that show no number do not count; 1 when none shows one.
    """
    halves = [
        (cell.upper - cell.lower) / 2
        for cell in cells
        if cell.lower is not None and cell.upper is not None and not cell.uncertain
    ]
    if not halves:
        return 1
    typical = statistics.median(halves)
    return next((decimals for decimals, floor in enumerate((10, 0.5, 0.05)) if typical >= floor), 3)


def _decimals(lower: float, upper: float, fewest: int) -> int | None:
    """The fewest decimals (from ``fewest``) printing ``lower`` and ``upper`` apart; None if none does."""
    for decimals in range(fewest, _MAX_DECIMALS + 1):
        if number(lower, decimals) != number(upper, decimals):
            return decimals
    return None


def cell_text(cell: ReleasedCell | None, min_group_size: int, decimals: int = 1) -> CellText:
    """How ``cell`` reads (see the module docstring), to ``decimals`` places or more.

    No cell at all (a group absent from a window: it joined the directory later) reads like a
    suppressed one: nothing is shown.
    """
    if cell is None or cell.value is None or cell.lower is None or cell.upper is None:
        return CellText(Reading.SUPPRESSED, fewer_than(min_group_size))
    if cell.uncertain:
        return CellText(Reading.UNCERTAIN, UNCERTAIN_TEXT)
    value, lower, upper = cell.value, cell.lower, cell.upper
    found = _decimals(lower, upper, decimals)
    if found is None:
        return CellText(Reading.EXACT, number(value, decimals), "exact", value, value, value)
    decimals = found
    shown = number(value, decimals)
    if cell.clamped and value <= lower:
        return CellText(Reading.AT_ZERO, shown, f"up to {number(upper, decimals)}", value, lower, upper)
    if cell.clamped and value >= upper:
        return CellText(Reading.AT_BOUND, shown, f"at least {number(lower, decimals)}", value, lower, upper)
    interval = f"{number(lower, decimals)}–{number(upper, decimals)}"
    return CellText(Reading.VALUE, shown, interval, value, lower, upper)


@dataclass(frozen=True)
class Column:
    """One window as a table column: ``label`` ("Jan 2026"), ``short`` for charts, ``dates`` it covers."""

    key: str
    label: str
    short: str
    dates: str


_MONTH = "%b %Y"


def column(key: str) -> Column:
    """A window key ("2026-01", "2026-Q1", "2026-W05") as people read it."""
    window = Window.parse(key)
    last = window.end - dt.timedelta(days=1)
    thursday = window.start + dt.timedelta(days=3)  # names the month or quarter (ISO rule)
    if window.cadence is Cadence.MONTH:
        label, short = f"{thursday:{_MONTH}}", f"{thursday:%b}"
    elif window.cadence is Cadence.QUARTER:
        label, short = f"{key[-2:]} {key[:4]}", key[-2:]
    else:
        label, short = f"week {key[-2:].lstrip('0')}, {key[:4]}", key[-3:]
    return Column(key, label, short, f"{window.start:%-d %b}–{last:%-d %b}")

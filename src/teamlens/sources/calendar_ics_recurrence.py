"""Read an iCalendar series' rules (``rules``) and keep their expansion to the time it can matter.

``dateutil`` walks a rule period by period from its ``DTSTART``, and it checks ``UNTIL`` only
on an occurrence it found: a rule whose parts never match (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``)
walks day by day to the year 9999, and a rule that started decades ago walks every period since:
a few kilobytes could take minutes. So, before a rule is expanded:

- it may repeat at most daily (``HOURLY``, ``MINUTELY`` and ``SECONDLY`` are not meetings);
- its end is brought to the end of the window read (the policy period, or the file's dates);
- a rule without ``COUNT`` starts at the last whole number of its periods before the window,
  which changes no occurrence inside it; one with ``COUNT`` but no ``BY…`` part does the same
  and counts the skipped occurrences off; any other counted rule that would walk more than
  :data:`MAX_STEPS` periods to reach the window's end is refused;
- the walk itself is metered: dateutil's per-rule iteration state is rebuilt at every new month
  it walks into, and a bounded rule may walk only the months up to the window's end (and one
  more): past them it could not yield anything the window needs, so it ends there
  (:class:`_MeteredWalk`, installed in dateutil once, acts only on rules made by ``bounded``).

Each bounded rule then walks at most the window's months (``events.MAX_OCCURRENCES`` more
bounds what it yields), so the time is bounded per event, and so per byte of the file.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from typing import Any

import dateutil.rrule  # type: ignore[import-untyped]  # no stubs
import icalendar
from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from teamlens.errors import InputFormatError

#: The most periods a counted rule may walk from its start to the window's end.
MAX_STEPS = 5_000
#: Frequencies a meeting series may have; finer ones are refused.
FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
#: Rule parts that leave one occurrence per period (so skipped periods can be counted off).
PLAIN_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"})
_DAYS = {DAILY: 1, WEEKLY: 7}
_MONTHS = {MONTHLY: 1, YEARLY: 12}


def rules(
    values: list[Any], start: dt.datetime, fail: Callable[[str, str, str], InputFormatError]
) -> tuple[rrule, ...]:
    """The event's ``RRULE`` values as dateutil rules from ``start``, refusing one finer than daily."""
    found = []
    for value in values:
        frequency = [str(f).upper() for f in (value.get("FREQ", []) if isinstance(value, dict) else [])]
        if frequency and frequency[0] not in FREQUENCIES:
            raise fail(
                "RRULE",
                f"the series repeats too often ({frequency[0].lower()})",
                "a meeting series repeating at most daily",
            )
        try:
            if not isinstance(value, icalendar.vRecur):
                raise ValueError("broken")
            parts = dict(value)
            until = parts.pop("UNTIL", [None])[0]
            text = icalendar.vRecur(parts).to_ical().decode()  # type: ignore[no-untyped-call]
            rule = rrulestr(text, dtstart=start)
            if until is not None:
                rule = rule.replace(until=_until(until, start))
        except Exception:
            raise fail(
                "RRULE", "this is not a valid recurrence rule", "a rule such as FREQ=WEEKLY;BYDAY=MO;COUNT=10"
            ) from None
        found.append(rule)
    return tuple(found)


def like(value: dt.datetime, start: dt.datetime) -> dt.datetime:
    """``value`` made comparable with ``start``: aware in its zone, or floating like it."""
    if start.tzinfo is None:
        return value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(tzinfo=start.tzinfo) if value.tzinfo is None else value


def _until(until: dt.date, start: dt.datetime) -> dt.datetime:
    if not isinstance(until, dt.datetime):
        # A date UNTIL includes that whole day.
        until = dt.datetime.combine(until, dt.time(23, 59, 59))
    return like(until, start)


def bounded(
    rule: rrule,
    plain: bool,
    low: dt.date,
    high: dt.datetime,
    fail: Callable[[str, str], InputFormatError],
) -> rrule:
    """``rule`` made to walk only to ``high`` and to start near ``low`` (see the module)."""
    # dateutil keeps the parsed rule in private attributes; it has no public accessors for them.
    freq, interval, count, start = rule._freq, rule._interval, rule._count, rule._dtstart
    changes: dict[str, object] = {}
    if rule._until is None or rule._until > high:
        changes["until"] = high
    skip = _periods_before(freq, interval, start, low)
    if skip and (count is None or plain):
        changes["dtstart"] = _shift(freq, interval, start, skip)
        if count is not None:
            if skip >= count:
                changes["count"], changes["until"] = 1, start  # every occurrence lies before the window
                changes.pop("dtstart")
            else:
                changes["count"] = count - skip
    elif count is not None and _periods_before(freq, interval, start, high.date()) > MAX_STEPS:
        raise fail(
            "RRULE",
            f"the counted series starts more than {MAX_STEPS} repetitions before the period it is read for",
        )
    with warnings.catch_warnings():
        # COUNT and UNTIL together: dateutil stops at whichever comes first, as needed here.
        warnings.simplefilter("ignore", DeprecationWarning)
        walked: rrule = rule.replace(**changes)
    begin = walked._dtstart
    walked._teamlens_months_left = (high.year - begin.year) * 12 + high.month - begin.month + 2
    return walked


class WalkEnded(Exception):
    """A bounded rule walked past the months of its window (raised inside dateutil's walk)."""


class _MeteredWalk(dateutil.rrule._iterinfo):  # type: ignore[misc]
    """dateutil's iteration state, counting the months a bounded rule walks into (see the module)."""

    def rebuild(self, year: int, month: int) -> None:
        left = getattr(self.rrule, "_teamlens_months_left", None)
        if left is not None:
            if left <= 0:
                raise WalkEnded
            self.rrule._teamlens_months_left = left - 1
        super().rebuild(year, month)


# dateutil's rrule._iter builds its _iterinfo by the module-level name on each walk.
dateutil.rrule._iterinfo = _MeteredWalk


def _periods_before(freq: int, interval: int, start: dt.datetime, day: dt.date) -> int:
    """Whole periods of the rule between ``start`` and ``day``, less one for safety (0 if none)."""
    if freq in _DAYS:
        gap = (day - start.date()).days // (_DAYS[freq] * interval)
    elif freq in _MONTHS and start.day <= 28:  # a later day of month is not in every month
        months = (day.year - start.year) * 12 + day.month - start.month
        gap = months // (_MONTHS[freq] * interval)
    else:
        return 0
    return max(gap - 1, 0)


def _shift(freq: int, interval: int, start: dt.datetime, periods: int) -> dt.datetime:
    if freq in _DAYS:
        return start + dt.timedelta(days=_DAYS[freq] * interval * periods)
    shifted: dt.datetime = start + relativedelta(months=_MONTHS[freq] * interval * periods)
    return shifted

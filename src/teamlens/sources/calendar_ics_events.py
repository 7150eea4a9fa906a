"""Parse an iCalendar file into meeting instances: recurrences expanded, overrides applied.

Used by ``calendar_ics.py``; see its docstring for what is counted. Here: which events are read
(timed, not cancelled, not free), how series are expanded (``RRULE``, ``RDATE``, ``EXDATE``,
overrides by ``RECURRENCE-ID``) and inside which window, and the errors that name the event.
Addresses are kept only as long as it takes to compare them with the exclusions and to
pseudonymise them; titles, descriptions and locations are never looked at.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import icalendar
from dateutil.rrule import rrule, rruleset  # type: ignore[import-untyped]  # no stubs

from teamlens.errors import InputFormatError
from teamlens.pseudonymise import normalise_identifier
from teamlens.sources.calendar_ics_recurrence import PLAIN_PARTS, WalkEnded, bounded, rules
from teamlens.sources.calendar_ics_recurrence import like as _like

#: The longest span of days read from one file: the latest year of its dated events.
MAX_SPAN_DAYS = 366
#: The most occurrences one series may produce up to the window's end before it is refused.
MAX_OCCURRENCES = 2_000
#: Events starting outside these dates are not read: no meeting is that old or that far ahead,
#: and keeping a margin from the calendar's ends keeps day arithmetic in every zone safe.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
_NOT_PEOPLE = frozenset({"ROOM", "RESOURCE"})
_BEGIN = re.compile(rb"^BEGIN:VEVENT\r?$", re.IGNORECASE | re.MULTILINE)
_HINT = "Export the calendar again as an iCalendar (.ics) file; nothing from it was stored."
_UTC = dt.UTC


@dataclass(frozen=True)
class Person:
    """One participant who is a person (not a room, a resource or a non-participant)."""

    address: str | None  # the mailto address, lower-cased; None for other kinds of address
    attends: bool  # accepted, or organised without a reply of their own


@dataclass(frozen=True)
class Instance:
    """One occurrence of a meeting: start and end (aware, or naive for floating time), people."""

    start: dt.datetime
    end: dt.datetime
    people: tuple[Person, ...]
    recurring: bool


@dataclass(frozen=True)
class _Event:
    index: int
    uid: str
    recurrence_id: dt.datetime | None
    sequence: int
    start: dt.datetime
    end: dt.datetime
    dropped: bool  # cancelled or free: an override that drops its occurrence
    people: tuple[Person, ...]
    rules: tuple[rrule, ...]
    plain: tuple[bool, ...]  # each rule has no BY… part (one occurrence per period)
    finite: bool  # every rule ends (COUNT or UNTIL)
    rdates: tuple[dt.datetime, ...]
    exdates: tuple[dt.datetime | dt.date, ...]


@dataclass
class Parsed:
    """What a file holds: meeting instances in the window, and counts for the report's notes."""

    instances: list[Instance]
    first_day: dt.date | None
    last_day: dt.date | None
    events: int = 0
    capped: bool = False
    duplicates: int = 0
    unknown_zones: int = 0
    out_of_range: int = 0
    names: tuple[str, ...] = ()  # each calendar's X-WR-CALNAME ("" when it has none)


class _Locator:
    """Name an event by its position: the n-th VEVENT of the file and the line it starts on."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self.lines: list[int] = []
        line, at = 1, 0
        for match in _BEGIN.finditer(data):  # counted on from the last event: linear in the file
            line += data.count(b"\n", at, match.start())
            at = match.start()
            self.lines.append(line)

    def fail(self, index: int, field: str, problem: str, expected: str | None = None) -> InputFormatError:
        line = self.lines[index] if index < len(self.lines) else None
        return InputFormatError(
            self.path,
            f"event {index + 1} (VEVENT): {problem}",
            line=line,
            field=field,
            expected=expected,
            hint=_HINT,
        )


def parse(
    path: Path, is_excluded: Callable[[str], bool], period: tuple[dt.date, dt.date] | None = None
) -> Parsed:
    """Read ``path`` and return its meeting instances, dropping events with an excluded address.

    With ``period`` (the policy's), nothing outside it (and a day either side) is expanded.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFormatError(path, f"cannot be opened ({error.strerror})") from None
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
        components = [event for calendar in calendars for event in calendar.walk("VEVENT")]
    except Exception:
        # The parser raises many types on malformed input and quotes the file in its messages:
        # say only that the file is not iCalendar.
        raise InputFormatError(
            path,
            "is not a valid iCalendar file",
            expected="BEGIN:VCALENDAR … END:VCALENDAR with VEVENT components",
            hint=_HINT,
        ) from None
    if not calendars:
        raise InputFormatError(
            path,
            "holds no complete calendar",
            expected="BEGIN:VCALENDAR … END:VCALENDAR",
            line=1,
            hint="The file looks empty or cut short; export the calendar again.",
        )
    where = _Locator(path, data)
    parsed = Parsed([], None, None, events=len(components))
    parsed.names = tuple(str(calendar.get("X-WR-CALNAME", "")) for calendar in calendars)
    chosen: dict[tuple[str, dt.datetime | None], _Event] = {}
    for index, component in enumerate(components):
        event = _event(where, index, component, parsed, is_excluded)
        if event is None:
            continue
        key = (event.uid, event.recurrence_id and _instant(event.recurrence_id))
        if key in chosen:
            parsed.duplicates += not (event.dropped or chosen[key].dropped)
            if event.sequence <= chosen[key].sequence:
                continue
        chosen[key] = event
    # A cancelled or excluded series takes its moved occurrences with it.
    gone = {e.uid for e in chosen.values() if e.recurrence_id is None and e.dropped}
    kept = [e for e in chosen.values() if not e.dropped and e.uid not in gone]
    masters = [e for e in kept if e.recurrence_id is None]
    overrides = {
        (e.uid, _instant(e.recurrence_id)): e
        for e in chosen.values()
        if e.recurrence_id and e.uid not in gone
    }
    dated = [e.start.date() for e in kept] + [d.date() for e in masters for d in e.rdates]
    if not dated:
        return parsed
    dated = [min(max(day, EARLIEST), LATEST) for day in dated]
    # A series that ends may carry the window past the last dated event, by at most the span:
    # some calendars write an UNTIL far in the future for series nobody will attend.
    reach = min(max(dated) + dt.timedelta(days=MAX_SPAN_DAYS), LATEST)
    if period is not None:
        reach = min(reach, period[1] + dt.timedelta(days=2))
    after = reach + dt.timedelta(days=1)
    ends = [min(_last(where, e, after).date(), reach) for e in masters if e.rules and e.finite]
    anchors = dated + ends
    last = max(anchors)
    first = max(min(anchors), last - dt.timedelta(days=MAX_SPAN_DAYS - 1))
    parsed.capped = first > min(anchors)
    parsed.first_day, parsed.last_day = first, last
    # A day either side: a person's local day can differ from the day the time is written in.
    low, high = first - dt.timedelta(days=1), last + dt.timedelta(days=2)
    if period is not None:  # only the policy's period can be released
        low, high = max(low, period[0] - dt.timedelta(days=1)), min(high, period[1] + dt.timedelta(days=2))
    for master in masters:
        for start, recurring in _occurrences(where, master, low, high):
            if (master.uid, _instant(start)) in overrides:
                continue  # replaced by the override, added below with its own times and people
            parsed.instances.append(
                Instance(start, start + (master.end - master.start), master.people, recurring)
            )
    for override in overrides.values():
        # A moved or changed occurrence counts once, whether or not its series is in the file.
        if not override.dropped and low <= override.start.date() < high:
            parsed.instances.append(Instance(override.start, override.end, override.people, True))
    return parsed


def _event(
    where: _Locator, index: int, component: Any, parsed: Parsed, is_excluded: Callable[[str], bool]
) -> _Event | None:
    """The event's fields (``dropped`` when cancelled, free or excluded), or None when all-day."""
    if component.get("DTSTART") is None:
        raise where.fail(index, "DTSTART", "the event has no start", "a DTSTART date-time")
    start = _value(where, index, component, "DTSTART")
    if not isinstance(start, dt.date):
        raise where.fail(index, "DTSTART", "this is not a date or date-time")
    if not isinstance(start, dt.datetime):
        return None  # all-day events are not meetings
    end = _end(where, index, component, start)
    people: list[Person] = []
    addresses = [_address(value) for value in _list(component.get("ATTENDEE"))]
    organizer_list = _list(component.get("ORGANIZER"))
    organizer = _address(organizer_list[0]) if organizer_list else None
    # R18: an event with an excluded address is dropped before anything about it is counted.
    excluded = any(is_excluded(address) for address in (*addresses, organizer) if address)
    # Counts in notes leave excluded events out, so a note cannot betray that one existed.
    if not EARLIEST <= start.date() <= LATEST:
        parsed.out_of_range += not excluded
        return None
    if not excluded and start.tzinfo is None and "TZID" in getattr(component.get("DTSTART"), "params", {}):
        parsed.unknown_zones += 1
    for value, address in zip(_list(component.get("ATTENDEE")), addresses, strict=True):
        params = getattr(value, "params", {})
        if str(params.get("CUTYPE", "")).upper() in _NOT_PEOPLE:
            continue
        if str(params.get("ROLE", "")).upper() == "NON-PARTICIPANT":
            continue
        people.append(Person(address, str(params.get("PARTSTAT", "NEEDS-ACTION")).upper() == "ACCEPTED"))
    if organizer and organizer not in addresses:
        people.append(Person(organizer, True))
    status = str(component.get("STATUS", "")).upper()
    free = str(component.get("TRANSP", "")).upper() == "TRANSPARENT"
    recurrence_id = None
    if component.get("RECURRENCE-ID") is not None:
        value = _value(where, index, component, "RECURRENCE-ID")
        if not isinstance(value, dt.datetime):
            return None  # an override of an all-day series
        recurrence_id = value
    return _Event(
        index=index,
        uid=str(component.get("UID", "")) or f"#{index}",
        recurrence_id=recurrence_id,
        sequence=_sequence(component),
        start=start,
        end=end,
        dropped=excluded or free or status == "CANCELLED",
        people=tuple(people),
        rules=rules(
            _list(component.get("RRULE")),
            start,
            lambda field, problem, expected: where.fail(index, field, problem, expected),
        ),
        plain=tuple(set(dict(rule)) <= PLAIN_PARTS for rule in _list(component.get("RRULE"))),
        finite=all("COUNT" in rule or "UNTIL" in rule for rule in _list(component.get("RRULE"))),
        rdates=_rdates(where, index, component, start),
        exdates=_exdates(where, index, component, start),
    )


def _value(where: _Locator, index: int, component: Any, field: str) -> Any:
    try:
        return component[field].dt
    except Exception:
        raise where.fail(
            index, field, "this is not a valid date-time", "a date-time such as 20240108T100000Z"
        ) from None


def _end(where: _Locator, index: int, component: Any, start: dt.datetime) -> dt.datetime:
    if component.get("DTEND") is not None:
        field, end = "DTEND", _value(where, index, component, "DTEND")
        if not isinstance(end, dt.datetime) or (end.tzinfo is None) != (start.tzinfo is None):
            raise where.fail(index, field, "the end is not the same kind of date-time as the start")
    elif component.get("DURATION") is not None:
        field, duration = "DURATION", _value(where, index, component, "DURATION")
        if not isinstance(duration, dt.timedelta):
            raise where.fail(index, field, "this is not a duration", "a duration such as PT1H")
        try:
            end = start + duration
        except OverflowError:
            raise where.fail(index, field, "the event ends after the year 9999") from None
    else:
        return start  # RFC 5545: a date-time start alone lasts no time
    if end < start:
        raise where.fail(index, field, "the event ends before it starts")
    return end


def _rdates(where: _Locator, index: int, component: Any, start: dt.datetime) -> tuple[dt.datetime, ...]:
    try:
        values = [value[0] for value in component.rdates]
    except Exception:
        raise where.fail(index, "RDATE", "this is not a list of date-times") from None
    return tuple(
        _like(v if isinstance(v, dt.datetime) else dt.datetime.combine(v, start.timetz()), start)
        for v in values
        if isinstance(v, dt.date)
    )


def _exdates(
    where: _Locator, index: int, component: Any, start: dt.datetime
) -> tuple[dt.datetime | dt.date, ...]:
    try:
        values = list(component.exdates)
    except Exception:
        raise where.fail(index, "EXDATE", "this is not a list of date-times") from None
    return tuple(
        _like(v, start) if isinstance(v, dt.datetime) else v for v in values if isinstance(v, dt.date)
    )


def _last(where: _Locator, event: _Event, reach: dt.date) -> dt.datetime:
    """The start of a finite series' last occurrence before ``reach``."""
    starts = (start for start, _ in _occurrences(where, event, dt.date.min, reach))
    return max(starts, default=event.start)


def _occurrences(
    where: _Locator, event: _Event, low: dt.date, high: dt.date
) -> Iterator[tuple[dt.datetime, bool]]:
    """The starts of ``event``'s occurrences from ``low`` to before ``high``, and whether it repeats."""
    if not event.rules and not event.rdates:
        if low <= event.start.date() < high:
            yield event.start, False
        return
    series = rruleset()
    series.rdate(event.start)  # DTSTART is always the first instance, whatever the rule says
    end = _like(dt.datetime.combine(min(high, LATEST), dt.time()), event.start)
    for rule, plain in zip(event.rules, event.plain, strict=True):
        series.rrule(
            bounded(rule, plain, low, end, lambda field, problem: where.fail(event.index, field, problem))
        )
    for extra in event.rdates:
        series.rdate(extra)
    skipped_days = {d for d in event.exdates if not isinstance(d, dt.datetime)}
    for excluded in event.exdates:
        if isinstance(excluded, dt.datetime):
            series.exdate(excluded)
    try:
        for count, start in enumerate(series):
            if start.date() >= high:
                break
            if count >= MAX_OCCURRENCES:
                raise where.fail(
                    event.index,
                    "RRULE",
                    "the series repeats too often to expand",
                    f"at most {MAX_OCCURRENCES} occurrences before the file's last day",
                )
            if start.date() >= low and start.date() not in skipped_days:
                yield start, True
    except WalkEnded:
        return  # past the window's months: nothing more the window needs
    except InputFormatError:
        raise
    except Exception:
        raise where.fail(event.index, "RRULE", "the recurrence cannot be expanded") from None


def _instant(value: dt.datetime) -> dt.datetime:
    """A key equal for the same instant whatever zone it is written in (floating times as written)."""
    return value if value.tzinfo is None else value.astimezone(_UTC)


def _address(value: object) -> str | None:
    text = str(value).strip()
    return normalise_identifier(text[7:]) or None if text[:7].lower() == "mailto:" else None


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _sequence(component: Any) -> int:
    try:
        return int(component.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        return 0

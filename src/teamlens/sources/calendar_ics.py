"""Connector for iCalendar (RFC 5545) files: meetings and focus time per person and local day.

**Which events are meetings.** A timed ``VEVENT`` (all-day events are not meetings) that is not
cancelled (``STATUS:CANCELLED``, on the event or on one occurrence through its
``RECURRENCE-ID`` override), not shown as free (``TRANSP:TRANSPARENT``), lasts more than no time
and at most 24 hours, and has at least two people: the organiser and the attendees, leaving out
rooms and resources (``CUTYPE``) and non-participants (``ROLE``), whatever their reply.

**Who attended.** An attendee whose ``PARTSTAT`` is ``ACCEPTED``, and the organiser unless
their own ``ATTENDEE`` line says otherwise. Tentative, declined, delegated and unanswered
invitations are not attendance, as in the Graph calendar connector. A person is their
``mailto:`` address, pseudonymised on sight; other addresses identify nobody.

**What is counted**, on the local day each occurrence starts in the attendee's time zone
(``ctx.working_hours_of``; floating times are read as local time wherever the attendee is):
``meetings_attended``, ``meeting_minutes`` (summed per day, rounded half up), ``large_meetings``
(more than 8 people), ``long_meetings`` (over 60 minutes) and ``recurring_meetings`` (an
occurrence of a series). ``focus_blocks`` counts, for each person who attended a meeting in the
file, on each of their working days in the file's window, the free stretches of two hours or
more inside their working hours once their attended meetings are taken out. Nothing finer than
the day leaves this module.

**Recurrence.** Series are expanded with ``RRULE``, ``RDATE`` and ``EXDATE``; an override
replaces its occurrence; a later ``SEQUENCE`` of the same event wins. Expansion is bounded by the
file's window, since an open-ended series has no end of its own: the days from its earliest to
its latest dated occurrence (single events, moved occurrences, extra dates, series starts, and
the last occurrence of a series that ends, counted at most 366 days past the other dates), of
which at most the latest 366 are read (a note says so). Occurrences are counted as scheduled:
export a calendar after the period it covers.

**Exclusions (R18).** An event with any attendee or organiser whose address or domain the policy
excludes is dropped, with its overrides, before anything is counted; it moves no note, no count
of the report and not the window. Objectors get no facts, but still count towards the size of
the meetings they were invited to.

**Whose calendar.** A file named after one address (``alice@example.org.ics``), or whose every
calendar has an ``X-WR-CALNAME`` that is one and the same address (Google Calendar's export), is
that person's calendar, a personal export: it gives facts for its owner only, where the rules
above count them (accepted, or organised without a reply of their own); the other people still
count towards each meeting's size (``export_owner.py`` has the rule). A name and an
``X-WR-CALNAME`` naming two different addresses are refused. Any other file is organisation-wide
and every attendee named in it is counted, so it must hold all the meetings of the people in it:
the store keeps the last value ingested per person-day, so one person's calendar read that way
would give the other attendees partial counts that replace the ones from their own calendars. A
personal calendar of an address the policy excludes is not read. The whole file is parsed at once
(overrides and time zones may appear anywhere in it).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from teamlens.domain import FACT_SCHEMA
from teamlens.errors import ConfigError, InputFormatError
from teamlens.sources.activity import Meeting
from teamlens.sources.calendar_ics_events import MAX_SPAN_DAYS, Instance, Parsed, Person, parse
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.exclusions import AddressExclusions
from teamlens.sources.export_owner import (
    CALENDAR_EXTENSIONS,
    EXCLUDED,
    PERSONAL_BY_CALNAME,
    PERSONAL_BY_NAME,
    RENAME,
    absent,
    address,
    owner_from_name,
)

CALENDAR_METRICS = frozenset(
    {
        "meetings_attended",
        "meeting_minutes",
        "large_meetings",
        "long_meetings",
        "recurring_meetings",
        "focus_blocks",
    }
)
LARGE_MEETING = 8  # more than this many people
LONG_MEETING = dt.timedelta(minutes=60)  # longer than this
LONGEST_MEETING = dt.timedelta(hours=24)
FOCUS_MINUTES = 120
_DAY_MINUTES = 24 * 60
_SNIFF_BYTES = 4096


@dataclass
class _Tally:
    """Counts per (person, day, metric), seconds of meetings, and each person-day's busy minutes."""

    metrics: frozenset[str]
    counts: Counter[tuple[str, dt.date, str]]
    seconds: Counter[tuple[str, dt.date]]
    busy: dict[tuple[str, dt.date], list[tuple[int, int]]]

    def add(self, person: str, day: dt.date, metric: str, when: bool = True) -> None:
        if when and metric in self.metrics:
            self.counts[(person, day, metric)] += 1

    def mark_busy(self, person: str, start: dt.datetime, end: dt.datetime) -> None:
        """Record the wall-clock minutes of [start, end) on each local day they touch."""
        day, last = start.date(), end.date()
        while day <= last:
            midnight = dt.datetime.combine(day, dt.time())
            begin = max(0, _minutes(start - midnight))
            finish = min(_DAY_MINUTES, _minutes(end - midnight))
            if finish > begin:
                self.busy.setdefault((person, day), []).append((begin, finish))
            day += dt.timedelta(days=1)


@dataclass(frozen=True)
class IcsCalendarReader:
    """Read an iCalendar (.ics) file into meeting and focus facts (a ``SourceReader``)."""

    name: str = "calendar_ics"
    description: str = (
        "iCalendar (.ics) export, of everyone's meetings or of one person's calendar named after "
        "their address: meetings, meeting hours, large, long and recurring meetings, focus blocks"
    )

    def sniff(self, path: Path) -> bool:
        """True when ``path`` starts with ``BEGIN:VCALENDAR``."""
        try:
            with path.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
        except OSError:
            return False
        return head.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"BEGIN:VCALENDAR")

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the policy's calendar metrics from ``path`` as daily facts."""
        metrics = CALENDAR_METRICS & ctx.metrics
        excluded = AddressExclusions(ctx.exclusions)
        named = owner_from_name(path, CALENDAR_EXTENSIONS)
        if named is not None and excluded(named):
            report.note(EXCLUDED)  # the owner is on every event in it: nothing may be counted
            return
        parsed = parse(path, excluded, ctx.period)
        owner, personal = _owner(path, named, parsed)
        if owner is not None and excluded(owner):
            report.note(EXCLUDED)
            return
        # Excluded events are counted as read and kept, so the report cannot show they were there.
        report.rows_read += parsed.events
        report.rows_kept += parsed.events
        _notes(parsed, report)
        if not metrics and not ctx.activity.enabled:
            report.note("the policy allows none of the calendar metrics; nothing was kept")
            return
        if owner is not None:
            on_it = any(person.address == owner for each in parsed.instances for person in each.people)
            report.note(personal if on_it or not parsed.instances else absent("meetings"))
        if parsed.first_day is None or parsed.last_day is None:
            return
        tally = _Tally(metrics, Counter(), Counter(), {})
        zones: dict[str, ZoneInfo] = {}
        too_long = 0
        attendees: set[str] = set()
        for instance in parsed.instances:
            duration = instance.end - instance.start
            if duration > LONGEST_MEETING:
                too_long += 1
                continue
            if duration <= dt.timedelta(0) or _head_count(instance) < 2:
                continue
            large = _head_count(instance) > LARGE_MEETING
            together = _attending(instance, ctx) if ctx.activity.enabled else ()
            for person in instance.people:
                if not person.attends or person.address is None:
                    continue
                if owner is not None and person.address != owner:
                    continue  # a personal calendar tells only about its owner
                who = ctx.pseudonymise(person.address)
                if who in ctx.excluded_persons:
                    continue
                start, end = _local(instance, _zone(zones, ctx.working_hours_of(who).timezone))
                day = start.date()
                tally.mark_busy(who, start, end)
                if not parsed.first_day <= day <= parsed.last_day:
                    continue
                attendees.add(who)
                if ctx.activity.enabled:
                    ctx.activity.record_meeting(who, _meeting(instance, start, end, person, ctx))
                    ctx.activity.record_edge(who, together, day, duration.total_seconds() / 60, "meeting")
                tally.add(who, day, "meetings_attended")
                tally.seconds[(who, day)] += int(duration.total_seconds())
                tally.add(who, day, "large_meetings", large)
                tally.add(who, day, "long_meetings", duration > LONG_MEETING)
                tally.add(who, day, "recurring_meetings", instance.recurring)
        if too_long:
            report.note(
                f"{too_long} event occurrence{'s' if too_long > 1 else ''} lasting over 24 hours "
                "were not counted as meetings"
            )
        if ctx.activity.enabled:
            for who in attendees:
                ctx.activity.record_calendar(who, parsed.first_day, parsed.last_day)
        rows = _rows(tally, ctx, attendees, parsed.first_day, parsed.last_day)
        report.people_seen += len({row[0] for row in rows})
        for offset in range(0, len(rows), ctx.batch_rows):
            chunk = rows[offset : offset + ctx.batch_rows]
            report.facts += len(chunk)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array([row[0] for row in chunk], pa.string()),
                    pa.array([row[1] for row in chunk], pa.date32()),
                    pa.array([1] * len(chunk), pa.int8()),
                    pa.array([row[2] for row in chunk], pa.string()),
                    pa.array([row[3] for row in chunk], pa.int64()),
                    pa.array([self.name] * len(chunk), pa.string()),
                ],
                schema=FACT_SCHEMA,
            )


def _owner(path: Path, named: str | None, parsed: Parsed) -> tuple[str | None, str]:
    """The owner of a personal calendar (None when organisation-wide), and the note that says so.

    ``named`` is the address the file is named after; else every calendar's X-WR-CALNAME must be
    the same address.
    """
    declared = {address(name) for name in parsed.names}
    if named is not None:
        if declared - {None, named}:
            raise InputFormatError(
                path,
                "is named after one address but its X-WR-CALNAME is another",
                field="X-WR-CALNAME",
                expected="a personal calendar named after its owner's own address",
                hint=f"Rename the file: {RENAME}. Nothing from it was stored.",
            )
        return named, PERSONAL_BY_NAME
    if len(declared) == 1 and None not in declared:
        return declared.pop(), PERSONAL_BY_CALNAME
    return None, ""


def _notes(parsed: Parsed, report: ReadReport) -> None:
    if parsed.capped:
        report.note(
            f"the calendar spans more than {MAX_SPAN_DAYS} days: only the latest {MAX_SPAN_DAYS} "
            "days of its dated events were read; export shorter periods to read the rest"
        )
    if parsed.duplicates:
        report.note(
            f"{parsed.duplicates} event{'s' if parsed.duplicates > 1 else ''} appeared more than "
            "once (same UID and RECURRENCE-ID): the one with the highest SEQUENCE was counted"
        )
    if parsed.out_of_range:
        report.note(
            f"{parsed.out_of_range} event{'s' if parsed.out_of_range > 1 else ''} dated before 1900 "
            "or after 2199 were not read"
        )
    if parsed.unknown_zones:
        report.note(
            f"{parsed.unknown_zones} event{'s' if parsed.unknown_zones > 1 else ''} named a time "
            "zone the file does not define: read as local time wherever each attendee works"
        )


def _rows(
    tally: _Tally, ctx: ReadContext, attendees: set[str], first: dt.date, last: dt.date
) -> list[tuple[str, dt.date, str, int]]:
    rows = [(who, day, metric, value) for (who, day, metric), value in tally.counts.items()]
    if "meeting_minutes" in tally.metrics:
        rows += [
            (who, day, "meeting_minutes", (seconds + 30) // 60)
            for (who, day), seconds in tally.seconds.items()
            if (seconds + 30) // 60
        ]
    if "focus_blocks" in tally.metrics:
        for who in attendees:
            hours = ctx.working_hours_of(who)
            begin = hours.start.hour * 60 + hours.start.minute
            finish = hours.end.hour * 60 + hours.end.minute
            day = first
            while day <= last:
                if day.weekday() in hours.days:
                    blocks = _focus_blocks(tally.busy.get((who, day), []), begin, finish)
                    if blocks:
                        rows.append((who, day, "focus_blocks", blocks))
                day += dt.timedelta(days=1)
    rows.sort()
    return rows


def _focus_blocks(busy: list[tuple[int, int]], begin: int, finish: int) -> int:
    """How many free stretches of ``FOCUS_MINUTES`` or more lie in [begin, finish) outside ``busy``."""
    blocks, cursor = 0, begin
    for start, end in sorted(busy):
        if min(start, finish) - cursor >= FOCUS_MINUTES:
            blocks += 1
        cursor = max(cursor, end)
    return blocks + (finish - cursor >= FOCUS_MINUTES)


def _meeting(
    instance: Instance, start: dt.datetime, end: dt.datetime, person: Person, ctx: ReadContext
) -> Meeting:
    """The occurrence as ``person`` lived it, with the other person of a two-person meeting."""
    partner = None
    if _head_count(instance) == 2:
        others = [p.address for p in instance.people if p.address and p.address != person.address]
        partner = ctx.pseudonymise(others[0]) if len(others) == 1 else None
    return Meeting(start, end, _head_count(instance), instance.recurring, partner)


def _attending(instance: Instance, ctx: ReadContext) -> tuple[str, ...]:
    """The pseudonyms of everyone who attended ``instance`` (objectors left out): the network's ends."""
    found = (ctx.pseudonymise(p.address) for p in instance.people if p.attends and p.address is not None)
    return tuple(dict.fromkeys(who for who in found if who not in ctx.excluded_persons))


def _head_count(instance: Instance) -> int:
    """Distinct people: addresses once each, people without an e-mail address one each."""
    addresses = {person.address for person in instance.people if person.address}
    return len(addresses) + sum(person.address is None for person in instance.people)


def _local(instance: Instance, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Start and end as naive wall-clock times where the attendee works."""
    if instance.start.tzinfo is None:
        return instance.start, instance.end
    return (
        instance.start.astimezone(zone).replace(tzinfo=None),
        instance.end.astimezone(zone).replace(tzinfo=None),
    )


def _zone(zones: dict[str, ZoneInfo], name: str) -> ZoneInfo:
    if name not in zones:
        try:
            zones[name] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                "The policy's working_hours.timezone is not a known IANA time zone.",
                "Use a name such as Europe/London in the policy.",
            ) from None
    return zones[name]


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


CALENDAR_ICS = IcsCalendarReader()

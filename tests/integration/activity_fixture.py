"""A small organisation's raw events, written as real exports, and the catalogue's definitions by hand.

The events (``MEETINGS``, ``EMAILS``, ``CHATS``) are plain Python; ``write_exports`` renders them as
an HR CSV, an iCalendar file (a recurring series with an excluded date and a moved occurrence,
in named time zones), an mbox and a Slack export. ``expected_week_totals`` computes each metric
of the new catalogue from the same events on a minute grid, minute by minute, without the
connector's code: occurrences are listed here as they should expand, not expanded by a library.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from teamlens.domain.metrics import METRICS, Unit
from teamlens.sources.activity_metrics import ACTIVITY_METRICS, TOOL_METRICS

from .flow_support import policy_text

UTC = dt.UTC
LONDON, TOKYO, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")


@dataclass(frozen=True)
class Person:
    email: str
    zone: ZoneInfo
    start: dt.time
    end: dt.time
    manager: str = ""


PEOPLE = {
    "mo": Person("mo@corp.example", LONDON, dt.time(9), dt.time(17, 30)),
    "ana": Person("ana@corp.example", LONDON, dt.time(9), dt.time(17, 30), "mo"),
    "pia": Person("pia@corp.example", LONDON, dt.time(9), dt.time(17, 30), "ana"),
    "kenji": Person("kenji@corp.example", TOKYO, dt.time(9), dt.time(17, 30), "mo"),
    "nina": Person("nina@corp.example", NEW_YORK, dt.time(8), dt.time(16), "mo"),
    "ole": Person("ole@corp.example", LONDON, dt.time(22), dt.time(6), "mo"),  # a night shift
    # Quieter colleagues: only the all-hands (the policy's smallest group is 10 people).
    **{
        name: Person(f"{name}@corp.example", LONDON, dt.time(9), dt.time(17, 30), "ana")
        for name in ("quinn", "rui", "sam", "tia")
    },
}
EXTERNAL = ("p1@partner.example", "p2@partner.example", "p3@partner.example", "p4@partner.example")


@dataclass(frozen=True)
class Occurrence:
    """One meeting as it happens: aware start and end, who accepted, whether it repeats."""

    start: dt.datetime
    end: dt.datetime
    people: tuple[str, ...]  # names in PEOPLE, or external addresses
    recurring: bool


def _at(zone: ZoneInfo, text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone)


STANDUP = ("mo", "ana", "pia", "kenji")
# Stand-up, weekdays at 09:30 London, COUNT=10 from Monday 2 March 2026, minus Wednesday 4 March
# (EXDATE), with Tuesday 10 March moved to 16:00–16:45 (an override).
_STANDUP_DAYS = [2, 3, 5, 6, 9, 11, 12, 13]
MEETINGS = [
    *(
        Occurrence(
            _at(LONDON, f"2026-03-{d:02d}T09:30"), _at(LONDON, f"2026-03-{d:02d}T10:00"), STANDUP, True
        )
        for d in _STANDUP_DAYS
    ),
    Occurrence(_at(LONDON, "2026-03-10T16:00"), _at(LONDON, "2026-03-10T16:45"), STANDUP, True),
    # ana's weekly 1:1 with her manager, two occurrences (UTC times).
    Occurrence(_at(UTC, "2026-03-03T14:00"), _at(UTC, "2026-03-03T15:00"), ("ana", "mo"), True),
    Occurrence(_at(UTC, "2026-03-10T14:00"), _at(UTC, "2026-03-10T15:00"), ("ana", "mo"), True),
    # All-hands: ten people, two hours; midnight in Tokyo falls inside it.
    Occurrence(_at(UTC, "2026-03-05T13:00"), _at(UTC, "2026-03-05T15:00"), (*PEOPLE, *EXTERNAL), False),
    # pia with her manager ana, double-booked against the all-hands.
    Occurrence(_at(UTC, "2026-03-05T14:00"), _at(UTC, "2026-03-05T14:30"), ("pia", "ana"), False),
    # Saturday in London.
    Occurrence(_at(LONDON, "2026-03-07T10:00"), _at(LONDON, "2026-03-07T11:00"), ("nina", "ole"), False),
    # New York after its change to summer time (8 March): 06:00 on the 10th in Tokyo.
    Occurrence(
        _at(NEW_YORK, "2026-03-09T17:00"), _at(NEW_YORK, "2026-03-09T18:00"), ("nina", "kenji"), False
    ),
    # A long workshop, three hours.
    Occurrence(_at(LONDON, "2026-03-12T13:00"), _at(LONDON, "2026-03-12T16:00"), ("mo", "ole", "pia"), False),
]
#: The calendar file's dates: its earliest dated event to the last occurrence of the series.
CALENDAR_DAYS = (dt.date(2026, 3, 2), dt.date(2026, 3, 13))

# (sender, instant, recipients)
EMAILS = [
    ("ana", _at(UTC, "2026-03-03T14:20"), ("mo",)),  # during her 1:1
    ("ana", _at(UTC, "2026-03-03T20:00"), ("pia", "mo")),  # after hours
    ("kenji", _at(UTC, "2026-03-05T23:00"), ("mo",)),  # 08:00 on the 6th in Tokyo: before hours
    ("mo", _at(UTC, "2026-03-10T10:00"), ("pia", "ana", "nina")),
    ("pia", _at(UTC, "2026-03-07T09:00"), ("ana",)),  # a Saturday
    ("nina", _at(UTC, "2026-03-11T13:05"), ("ole",)),
]
# (poster, instant)
CHATS = [
    ("nina", _at(UTC, "2026-03-05T14:30")),  # during the all-hands
    ("ole", _at(UTC, "2026-03-10T23:00")),  # inside his night shift
    ("ana", _at(UTC, "2026-03-11T18:00")),
    ("ana", _at(UTC, "2026-03-11T18:30")),
    ("ana", _at(UTC, "2026-03-12T19:00")),
    ("pia", _at(UTC, "2026-03-12T14:10")),  # during the workshop
]
WEEKS = (dt.date(2026, 3, 2), dt.date(2026, 3, 9))


#: The metrics the fixture can give (file use needs usage reports, which it has none of).
CHECKED = sorted(ACTIVITY_METRICS - {TOOL_METRICS["files"]})
FILE_SOURCES = '"hr_directory_csv", "calendar_ics", "mail_headers", "slack_export"'


def _bound(name: str) -> str:
    definition = METRICS[name]
    if definition.unit is Unit.SHARE:
        return "1"
    return str(definition.weekly_bound // definition.display_divisor)


def combined_policy(sources: str = FILE_SOURCES) -> str:
    """The template policy with the ``CHECKED`` metrics, ``sources``, and a weekly organisation report."""
    template = 'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]'
    text = policy_text(**{template: f"sources = [{sources}]"})
    start, end = text.index("[[metrics]]"), text.index("# Messages to or from these")
    metrics = "".join(f'[[metrics]]\nname = "{name}"\nper_week = {_bound(name)}\n\n' for name in CHECKED)
    names = ", ".join(f'"{name}"' for name in CHECKED)
    report = (
        '[[reports]]\nid = "organisation-weekly"\ntitle = "Organisation"\nlevel = "organisation"\n'
        f'cadence = "week"\nmetrics = [{names}]\n'
        'budget_share = "0.9"\n\n'
    )
    return text[:start] + metrics + report + text[end:]


def write_exports(folder: Path) -> None:
    """The HR directory, the calendar, the mailbox and the Slack export of the events above."""
    folder.mkdir(parents=True, exist_ok=True)
    header = "Email,Team,Department,Division,Valid From,Valid To,Time Zone,Working Hours Start,"
    rows = [
        f"{p.email},Alpha,D,X,2025-01-01,,{p.zone.key},{p.start:%H:%M},{p.end:%H:%M},"
        f"{PEOPLE[p.manager].email if p.manager else ''}"
        for p in PEOPLE.values()
    ]
    (folder / "directory.csv").write_text(
        header + "Working Hours End,Manager Email\n" + "\n".join(rows) + "\n"
    )
    (folder / "calendar.ics").write_text(_calendar())
    (folder / "mail.mbox").write_text("".join(_message(*email, n) for n, email in enumerate(EMAILS)))
    _slack(folder / "slack")


def _address(who: str) -> str:
    return PEOPLE[who].email if who in PEOPLE else who


def _vevent(uid: str, start: str, end: str, people: tuple[str, ...], *extra: str) -> str:
    attendees = "".join(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{_address(p)}\r\n" for p in people[1:])
    lines = "".join(f"{line}\r\n" for line in extra)
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260201T000000Z\r\n{start}\r\n{end}\r\n"
        f"ORGANIZER:mailto:{_address(people[0])}\r\n{attendees}{lines}"
        "END:VEVENT\r\n"
    )


def _calendar() -> str:
    z = "TZID=Europe/London"
    events = [
        _vevent(
            "standup",
            f"DTSTART;{z}:20260302T093000",
            f"DTEND;{z}:20260302T100000",
            STANDUP,
            "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10",
            f"EXDATE;{z}:20260304T093000",
        ),
        _vevent(
            "standup",
            f"DTSTART;{z}:20260310T160000",
            f"DTEND;{z}:20260310T164500",
            STANDUP,
            f"RECURRENCE-ID;{z}:20260310T093000",
        ),
        _vevent(
            "one-on-one",
            "DTSTART:20260303T140000Z",
            "DTEND:20260303T150000Z",
            ("mo", "ana"),
            "RRULE:FREQ=WEEKLY;COUNT=2",
        ),
        _vevent(
            "all-hands",
            "DTSTART:20260305T130000Z",
            "DTEND:20260305T150000Z",
            ("mo", *[p for p in (*PEOPLE, *EXTERNAL) if p != "mo"]),
        ),
        _vevent("clash", "DTSTART:20260305T140000Z", "DTEND:20260305T143000Z", ("ana", "pia")),
        _vevent("saturday", f"DTSTART;{z}:20260307T100000", f"DTEND;{z}:20260307T110000", ("nina", "ole")),
        _vevent(
            "ny",
            "DTSTART;TZID=America/New_York:20260309T170000",
            "DTEND;TZID=America/New_York:20260309T180000",
            ("nina", "kenji"),
        ),
        _vevent(
            "workshop", f"DTSTART;{z}:20260312T130000", f"DTEND;{z}:20260312T160000", ("mo", "ole", "pia")
        ),
        # Tentative: attendance by no one but the organiser, so a meeting of one, which is no meeting.
        _vevent("maybe", "DTSTART:20260311T100000Z", "DTEND:20260311T110000Z", ("mo",)).replace(
            "END:VEVENT",
            f"ATTENDEE;PARTSTAT=TENTATIVE:mailto:{PEOPLE['ana'].email}\r\nSTATUS:CANCELLED\r\nEND:VEVENT",
        ),
    ]
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"


def _message(sender: str, when: dt.datetime, to: tuple[str, ...], number: int) -> str:
    return (
        f"From {_address(sender)} {when:%a %b %d %H:%M:%S %Y}\n"
        f"From: {_address(sender)}\nTo: {', '.join(_address(p) for p in to)}\n"
        f"Date: {when:%a, %d %b %Y %H:%M:%S +0000}\nMessage-ID: <m{number}@corp.example>\n"
        "Subject: x\n\nbody\n\n"
    )


def _slack(root: Path) -> None:
    root.mkdir()
    users = [
        {
            "id": f"U{name.upper()}",
            "team_id": "T1",
            "name": name,
            "is_bot": False,
            "deleted": False,
            "profile": {"email": person.email, "real_name": name},
        }
        for name, person in PEOPLE.items()
    ]
    (root / "users.json").write_text(json.dumps(users))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general", "members": []}]))
    (root / "integration_logs.json").write_text("[]")
    (root / "general").mkdir()
    by_day: dict[str, list[dict[str, str]]] = defaultdict(list)
    for name, when in CHATS:
        by_day[f"{when:%Y-%m-%d}"].append(
            {
                "type": "message",
                "user": f"U{name.upper()}",
                "ts": f"{int(when.timestamp())}.000100",
                "text": "x",
            }
        )
    for day, messages in by_day.items():
        (root / "general" / f"{day}.json").write_text(json.dumps(messages))


# ---- the definitions, minute by minute ------------------------------------------------------


def _working(person: Person, local: dt.datetime) -> bool:
    if local.weekday() > 4:
        return False
    now = local.time()
    if person.start < person.end:
        return person.start <= now < person.end
    return now >= person.start or now < person.end


@dataclass(frozen=True)
class Events:
    """What one set of inputs shows of the events: a live pull sees less than the exports do."""

    meetings: tuple[Occurrence, ...] = tuple(MEETINGS)
    chats: tuple[tuple[str, dt.datetime], ...] = tuple(CHATS)
    #: Whether mail received is seen (an mbox shows it; Graph's Sent Items do not).
    received: bool = True


def expected_week_totals(events: Events = Events()) -> dict[tuple[dt.date, str], int]:
    """Per (Monday, metric), the sum over everyone of their stored values for that week."""
    totals: Counter[tuple[dt.date, str]] = Counter()
    for name, person in PEOPLE.items():
        for (monday, metric), value in _person(name, person, events).items():
            totals[(monday, metric)] += value
    return dict(totals)


def _minutes_of(occurrence: Occurrence, zone: ZoneInfo) -> list[dt.datetime]:
    local, end = occurrence.start.astimezone(zone).replace(tzinfo=None), occurrence.end.astimezone(zone)
    out = []
    while local < end.replace(tzinfo=None):
        out.append(local)
        local += dt.timedelta(minutes=1)
    return out


def _person(name: str, person: Person, events: Events) -> Counter[tuple[dt.date, str]]:
    zone = person.zone
    mine = [m for m in events.meetings if name in m.people]
    cover: Counter[dt.datetime] = Counter()  # meetings running in each local minute
    daily: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for meeting in mine:
        size = len(meeting.people)
        long = meeting.end - meeting.start > dt.timedelta(hours=1)
        with_manager = size == 2 and person.manager in meeting.people
        for minute in _minutes_of(meeting, zone):
            cover[minute] += 1
            day = daily[minute.date()]
            day["meeting"] += 1
            day["recurring"] += meeting.recurring
            day["large_meeting_minutes"] += size > 8
            day["long_meeting_minutes"] += long
            day["manager_one_on_one_minutes"] += with_manager
            if not _working(person, minute):
                day["after_seconds"] += 60
    sends = [(when.astimezone(zone).replace(tzinfo=None), "email") for who, when, _ in EMAILS if who == name]
    sends += [
        (when.astimezone(zone).replace(tzinfo=None), "chat") for who, when in events.chats if who == name
    ]
    received = [when.astimezone(zone).date() for _, when, to in EMAILS if name in to and events.received]
    for minute, count in cover.items():
        daily[minute.date()]["double_booked_minutes"] += count >= 2
    edges: dict[dt.date, list[dt.datetime]] = defaultdict(list)
    for meeting in mine:  # a meeting's first and last moment on each local day it covers
        by_day: dict[dt.date, list[dt.datetime]] = defaultdict(list)
        for minute in _minutes_of(meeting, zone):
            by_day[minute.date()].append(minute)
        for day, minutes in by_day.items():
            edges[day] += [minutes[0], minutes[-1] + dt.timedelta(minutes=1)]
    for when, kind in sends:
        day = daily[when.date()]
        day[f"{kind}_sent"] += 1
        day["multitasking_messages"] += cover[when] > 0
        if not _working(person, when):
            day["after_seconds"] += 300 if kind == "email" else 60
            day["after_sends"] += 1
        edges[when.date()].append(when)
    for day in received:
        daily[day]["received"] += 1
    in_calendar = bool(mine)
    days = set(daily) | (
        {CALENDAR_DAYS[0] + dt.timedelta(days=i) for i in range(12)} if in_calendar else set()
    )
    out: Counter[tuple[dt.date, str]] = Counter()
    weekly: dict[dt.date, Counter[str]] = defaultdict(Counter)
    blocked = {when.replace(second=0) for when, _ in sends}
    for day in sorted(days):
        values = daily[day]
        monday = day - dt.timedelta(days=day.weekday())
        week = weekly[monday]
        midnight = dt.datetime.combine(day, dt.time())
        minutes = [midnight + dt.timedelta(minutes=i) for i in range(24 * 60)]
        stored = {
            name: values[name]
            for name in (
                "large_meeting_minutes",
                "long_meeting_minutes",
                "manager_one_on_one_minutes",
                "double_booked_minutes",
                "multitasking_messages",
            )
        }
        stored["after_hours_collaboration_minutes"] = (values["after_seconds"] + 30) // 60
        stored["email_time_minutes"] = (values["email_sent"] * 300 + values["received"] * 150 + 30) // 60
        stored["chat_time_minutes"] = values["chat_sent"]
        active = values["meeting"] or values["email_sent"] or values["chat_sent"]
        working_day = day.weekday() <= 4
        stored["weekend_active_days"] = int(not working_day and bool(active))
        stored["workweek_span_minutes"] = (
            int((max(edges[day]) - min(edges[day])).total_seconds() // 60) if edges[day] else 0
        )
        if in_calendar and CALENDAR_DAYS[0] <= day <= CALENDAR_DAYS[1] and working_day:
            stored["meeting_free_days"] = int(values["meeting"] == 0)
            run, focus = 0, 0
            for minute in minutes:
                free = _working(person, minute) and not cover[minute] and minute not in blocked
                if free:
                    run += 1
                if not free:
                    focus += run if run >= 120 else 0
                    run = 0
            focus += run if run >= 120 else 0
            stored["focus_minutes"] = focus
        for metric, value in stored.items():
            out[(monday, metric)] += value
        week["meeting"] += values["meeting"]
        week["recurring"] += values["recurring"]
        week["after_days"] += bool(values["after_seconds"])
        week["email"] |= bool(values["email_sent"] or values["received"])
        week["chat"] |= bool(values["chat_sent"])
        week["meetings"] |= bool(values["meeting"])
    for monday, week in weekly.items():
        if week["meeting"]:
            out[(monday, "recurring_share")] += (2000 * week["recurring"] + week["meeting"]) // (
                2 * week["meeting"]
            )
        out[(monday, "heavy_meeting_weeks")] += 1000 * (week["meeting"] > 20 * 60)
        out[(monday, "after_hours_frequent_weeks")] += 1000 * (week["after_days"] >= 3)
        for tool, metric in (("email", "email_users"), ("chat", "chat_users"), ("meetings", "meeting_users")):
            out[(monday, metric)] += 1000 * week[tool]
    return out

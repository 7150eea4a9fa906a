"""Write a synthetic organisation's calendar (iCalendar) from its HR directory, for the demo.

The calendar holds the meetings a calendar export shows, in each organiser's time zone: every
team's weekday stand-up (15 minutes) and weekly team meeting (an hour; large in teams of more
than 8), each person's fortnightly 1:1 with the manager the directory names, each department's
monthly all-hands (90 minutes), and ad hoc meetings people organise with a few teammates, some
late in the day, some on top of another meeting, a few declined. Teams are taken as they stand
on the first day; people who join later are in none of the series. In the demo these stand for
in-room and calendar meetings, beside the Teams reports' online call time.

The same seed and directory give the same file.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_CRLF = "\r\n"


@dataclass(frozen=True)
class _Person:
    email: str
    team: str
    department: str
    manager: str
    zone: str


def write_calendar(directory_csv: Path, out: Path, *, start: dt.date, weeks: int, seed: int) -> int:
    """Write ``out`` (.ics) for the people placed on ``start``; the number of events written."""
    people = _people_on(directory_csv, start)
    rng = np.random.default_rng([seed, 4242])
    teams: dict[str, list[_Person]] = defaultdict(list)
    departments: dict[str, list[_Person]] = defaultdict(list)
    for person in people:
        teams[person.team].append(person)
        departments[person.department].append(person)
    events: list[str] = []
    for name, members in sorted(teams.items()):
        lead = members[0]
        events.append(
            _event(
                f"standup-{name}",
                lead,
                members,
                _at(start, 9, 30),
                15,
                f"RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT={5 * weeks}",
            )
        )
        events.append(
            _event(
                f"team-{name}",
                lead,
                members,
                _at(start + dt.timedelta(days=1), 14),
                60,
                f"RRULE:FREQ=WEEKLY;COUNT={weeks}",
            )
        )
    by_email = {person.email: person for person in people}
    for index, person in enumerate(people):
        manager = by_email.get(person.manager)
        if manager is not None:
            day = start + dt.timedelta(days=int(index % 5))
            events.append(
                _event(
                    f"one-on-one-{index}",
                    manager,
                    [manager, person],
                    _at(day, 11),
                    30,
                    f"RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT={max(1, weeks // 2)}",
                )
            )
    for index, person in enumerate(people):  # a weekly project sync with a few teammates
        mates = [mate for mate in teams[person.team] if mate is not person]
        if index % 3 or not mates:
            continue
        guests = [mates[int(i)] for i in sorted({int(i) for i in rng.integers(0, len(mates), 3)})]
        day = start + dt.timedelta(days=int(rng.integers(0, 5)))
        hour = int(rng.choice([10, 13, 15, 16]))
        minutes = int(rng.choice([30, 60, 90]))
        events.append(
            _event(
                f"sync-{index}",
                person,
                [person, *guests],
                _at(day, hour),
                minutes,
                f"RRULE:FREQ=WEEKLY;COUNT={weeks}",
            )
        )
    for name, members in sorted(departments.items()):
        events.append(
            _event(
                f"all-hands-{name}",
                members[0],
                members,
                _at(start + dt.timedelta(days=3), 15),
                90,
                f"RRULE:FREQ=MONTHLY;COUNT={max(1, weeks // 4)}",
            )
        )
    for week in range(weeks):
        monday = start + dt.timedelta(weeks=week)
        for index, person in enumerate(people):
            if rng.random() < 0.8:
                continue  # about one ad hoc meeting per person every five weeks (each is one event)
            mates = teams[person.team]
            chosen = {int(i) for i in rng.integers(0, len(mates), int(rng.integers(1, 4)))}
            guests = [mates[i] for i in sorted(chosen) if mates[i] is not person]
            hour = int(rng.choice([9, 10, 11, 13, 14, 15, 16, 18]))  # 18:00 is after hours
            day = monday + dt.timedelta(days=int(rng.integers(0, 5)))
            minutes = int(rng.choice([30, 45, 60, 90]))
            declined = {g.email for g in guests if rng.random() < 0.1}
            events.append(
                _event(
                    f"adhoc-{week}-{index}",
                    person,
                    [person, *guests],
                    _at(day, hour),
                    minutes,
                    declined=declined,
                )
            )
    body = "".join(events)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f"BEGIN:VCALENDAR{_CRLF}VERSION:2.0{_CRLF}PRODID:-//teamlens synth//EN{_CRLF}"
        f"{body}END:VCALENDAR{_CRLF}",
        encoding="utf-8",
    )
    return len(events)


def _people_on(directory_csv: Path, day: dt.date) -> list[_Person]:
    people = []
    with directory_csv.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            begins = dt.date.fromisoformat(row["Valid From"])
            ends = dt.date.fromisoformat(row["Valid To"]) if row["Valid To"] else dt.date.max
            if begins <= day < ends:
                zone = row["Time Zone"] or "Europe/London"
                people.append(
                    _Person(row["Email"], row["Team"], row["Department"], row["Manager Email"], zone)
                )
    return people


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def _event(
    uid: str,
    organiser: _Person,
    people: list[_Person],
    start: dt.datetime,
    minutes: int,
    rule: str = "",
    declined: frozenset[str] | set[str] = frozenset(),
) -> str:
    zone = organiser.zone
    end = start + dt.timedelta(minutes=minutes)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}@synth.teamlens.invalid",
        "DTSTAMP:20250101T000000Z",
        f"DTSTART;TZID={zone}:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={zone}:{end:%Y%m%dT%H%M%S}",
        f"ORGANIZER:mailto:{organiser.email}",
    ]
    for person in people:
        if person is not organiser:
            status = "DECLINED" if person.email in declined else "ACCEPTED"
            lines.append(f"ATTENDEE;PARTSTAT={status}:mailto:{person.email}")
    if rule:
        lines.append(rule)
    lines.append("END:VEVENT")
    return _CRLF.join(lines) + _CRLF

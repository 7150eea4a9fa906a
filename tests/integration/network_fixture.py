"""A small organisation's collaboration, written as real exports, and the network's totals by hand.

Three departments of ten (Alpha, Beta, Gamma) and one of three (Delta, under the comparison
floor) exchange emails (some copied to outsiders), Slack messages (in threads, and outside
threads in a channel) and calendar meetings in March 2026. ``write_exports`` renders them as an
HR CSV, an mbox, a Slack export and an iCalendar file; ``expected_pairs`` computes the network's
totals per ordered pair of departments from the same events, without the connectors' code: an
email's 1 split over its distinct recipients, a Slack post's 1 over the others in its thread (or
its channel's day), a meeting's minutes over the other attendees.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from pathlib import Path

from teamlens import services
from teamlens.services.workspace import Workspace

from .flow_support import approve_policy, make_workspace, policy_text

DEPARTMENTS = {"Alpha": 10, "Beta": 10, "Gamma": 10, "Delta": 3}
PEOPLE = {f"{dept[0].lower()}{n}": dept for dept, size in DEPARTMENTS.items() for n in range(size)}
OUTSIDERS = ("x1@partner.example", "x2@partner.example")
#: Weekdays of March 2026 inside its weeks (Monday 2 to Friday 27).
DAYS = [dt.date(2026, 3, 2) + dt.timedelta(days=n) for n in range(26) if (2 + n) % 7 not in (0, 1)]

MESSAGES_PER_WEEK = 60  # B per week for messages
MEETING_HOURS_PER_WEEK = 10
Email = tuple[str, dt.datetime, tuple[str, ...]]
Post = tuple[str, dt.datetime, str | None]  # who, when, thread ts (None: outside a thread)
Meeting = tuple[dt.datetime, int, tuple[str, ...]]  # start, minutes, organiser first


def address(who: str) -> str:
    return who if "@" in who else f"{who}@corp.example"


def events(seed: int = 11, busy: str | None = None) -> tuple[list[Email], list[Post], list[Meeting]]:
    """Emails, Slack posts and meetings; ``busy`` (a name in PEOPLE) also mails everyone, often."""
    rng = random.Random(seed)
    names = sorted(PEOPLE)
    emails: list[Email] = []
    for number in range(240):
        sender = rng.choice(names)
        to = rng.sample([n for n in names if n != sender], rng.randint(1, 4))
        if number % 7 == 0:
            to.append(rng.choice(OUTSIDERS))
        emails.append((sender, _at(rng, DAYS[number % len(DAYS)]), tuple(to)))
    if busy is not None:
        for number in range(1200):
            emails.append((busy, _at(rng, DAYS[number % len(DAYS)]), tuple(n for n in names if n != busy)))
    posts: list[Post] = []
    for number in range(30):
        day, people = DAYS[(3 * number) % len(DAYS)], rng.sample(names, rng.randint(2, 4))
        start = _at(rng, day)
        thread = f"{int(start.timestamp())}.000100"
        for reply in range(rng.randint(2, 5)):
            posts.append((people[reply % len(people)], start + dt.timedelta(minutes=reply), thread))
    for day in DAYS[:6]:
        for who in rng.sample(names, 3):
            posts.append((who, _at(rng, day), None))
    meetings: list[Meeting] = []
    for number in range(40):
        attending = tuple(rng.sample(names, rng.randint(2, 5)))
        meetings.append((_at(rng, DAYS[number % len(DAYS)]), rng.choice((30, 45, 60)), attending))
    return emails, posts, meetings


def _at(rng: random.Random, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(9, 15), rng.randint(0, 59)), dt.UTC)


def write_exports(folder: Path, emails: list[Email], posts: list[Post], meetings: list[Meeting]) -> None:
    """The HR directory, the mailbox, the Slack export and the calendar of these events."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [f"{address(n)},{dept}-team,{dept},Org,2025-01-01," for n, dept in sorted(PEOPLE.items())]
    (folder / "directory.csv").write_text(
        "Email,Team,Department,Division,Valid From,Valid To\n" + "\n".join(rows) + "\n"
    )
    mbox = "".join(
        f"From {address(sender)} {when:%a %b %d %H:%M:%S %Y}\nFrom: {address(sender)}\n"
        f"To: {', '.join(address(p) for p in to)}\nDate: {when:%a, %d %b %Y %H:%M:%S +0000}\n"
        f"Message-ID: <n{number}@corp.example>\nSubject: x\n\nbody\n\n"
        for number, (sender, when, to) in enumerate(emails)
    )
    (folder / "mail.mbox").write_text(mbox)
    _slack(folder / "slack", posts)
    vevents = "".join(
        f"BEGIN:VEVENT\r\nUID:m{number}\r\nDTSTAMP:20260201T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{start + dt.timedelta(minutes=minutes):%Y%m%dT%H%M%SZ}\r\n"
        f"ORGANIZER:mailto:{address(people[0])}\r\n"
        + "".join(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{address(p)}\r\n" for p in people[1:])
        + "END:VEVENT\r\n"
        for number, (start, minutes, people) in enumerate(meetings)
    )
    (folder / "calendar.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + vevents + "END:VCALENDAR\r\n"
    )


def _slack(root: Path, posts: list[Post]) -> None:
    root.mkdir()
    users = [
        {"id": f"U{name.upper()}", "team_id": "T1", "name": name, "profile": {"email": address(name)}}
        for name in sorted(PEOPLE)
    ]
    (root / "users.json").write_text(json.dumps(users))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general", "members": []}]))
    (root / "general").mkdir()
    by_day: dict[str, list[dict[str, str]]] = defaultdict(list)
    for who, when, thread in posts:
        message = {"type": "message", "user": f"U{who.upper()}", "ts": f"{int(when.timestamp())}.000100"}
        if thread is not None:
            message["thread_ts"] = thread
        by_day[f"{when:%Y-%m-%d}"].append(message)
    for day, messages in by_day.items():
        (root / "general" / f"{day}.json").write_text(json.dumps(messages))


def expected_pairs(
    emails: list[Email], posts: list[Post], meetings: list[Meeting]
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """Messages and meeting minutes per ordered pair of departments over the whole of March."""
    messages: dict[tuple[str, str], float] = defaultdict(float)
    for sender, _, to in emails:
        others = [p for p in dict.fromkeys(to) if p != sender]
        for partner in others:
            if partner in PEOPLE:
                messages[(PEOPLE[sender], PEOPLE[partner])] += 1 / len(others)
    exchanges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for who, when, thread in posts:
        exchanges[(thread or when.date().isoformat(), "")].append(who)
    for together in exchanges.values():
        for who in together:
            others = [p for p in dict.fromkeys(together) if p != who]
            for partner in others:
                messages[(PEOPLE[who], PEOPLE[partner])] += 1 / len(others)
    minutes: dict[tuple[str, str], float] = defaultdict(float)
    for _, length, people in meetings:
        for who in people:
            for partner in people:
                if partner != who:
                    minutes[(PEOPLE[who], PEOPLE[partner])] += length / (len(people) - 1)
    return dict(messages), dict(minutes)


def network_policy() -> str:
    """The template policy reading these exports, with a departments report and two network reports."""
    text = policy_text(
        **{
            'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]': (
                'sources = ["hr_directory_csv", "calendar_ics", "mail_headers", "slack_export"]'
            ),
        }
    )
    start, end = text.index("[[metrics]]"), text.index("# Messages to or from these")
    body = (
        '[[metrics]]\nname = "emails_sent"\nper_week = 100\n\n'
        f'[[metrics]]\nname = "network_messages"\nper_week = {MESSAGES_PER_WEEK}\n\n'
        f'[[metrics]]\nname = "network_meeting_minutes"\nper_week = {MEETING_HOURS_PER_WEEK}\n\n'
        '[[reports]]\nid = "departments"\ntitle = "Departments"\nlevel = "department"\n'
        'cadence = "month"\nmetrics = ["emails_sent"]\nbudget_share = "0.5"\n\n'
        '[[reports]]\nid = "network"\ntitle = "Who mails and chats with whom"\nkind = "network"\n'
        'level = "department"\ncadence = "month"\nmetrics = ["network_messages"]\nbudget_share = "0.25"\n\n'
        '[[reports]]\nid = "meeting-network"\ntitle = "Who meets whom"\nkind = "network"\n'
        'level = "department"\ncadence = "month"\nmetrics = ["network_meeting_minutes"]\n'
        'budget_share = "0.2"\n\n'
    )
    return text[:start] + body + text[end:]


def network_workspace(
    root: Path, busy: str | None = None
) -> tuple[Workspace, tuple[list[Email], list[Post], list[Meeting]]]:
    """An installation under ``root`` that approved ``network_policy`` and ingested these events."""
    ws = make_workspace(root)
    services.init(ws)
    approve_policy(ws, network_policy(), root / "policy.toml")
    happened = events(busy=busy)
    write_exports(root / "exports", *happened)
    services.ingest(ws, [root / "exports"], actor="admin")
    return ws, happened

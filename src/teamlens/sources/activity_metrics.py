"""Turn one ingestion's timeline (``activity.py``) into the facts of the metrics that combine sources.

The definitions, in each person's own time zone and working pattern (``ctx.working_hours_of``):

- **Days.** A meeting counts on each local day it covers, for the part of it on that day; a
  message sent counts at its instant and blocks the minute after it. Working time on a working
  day is [start, end) of the pattern, or [0:00, end) and [start, 24:00) for a shift that crosses
  midnight; a non-working day has none.
- **Daily facts** (``days`` = 1): hours in large (more than 8 people) and long (over 60 minutes)
  meetings; double-booked hours (time under two or more meetings at once); messages sent during
  one's own meetings; focus hours (on working days the person's calendar covers, the free
  stretches of 120 minutes or more of working time, free meaning no meeting and no message sent);
  meeting-free days (working days the calendar covers with no meeting); after-hours
  collaboration hours (meeting time outside working time, plus 5 minutes per email and 1 per chat
  message sent outside it); active non-working days; the workweek span (first to last activity
  of the day); email hours (5 minutes per email sent, 2.5 per email received) and chat hours
  (1 minute per chat message); 1:1 hours with one's manager (meetings of exactly two people, the
  other being the manager the directory names). Times are summed in seconds per person-day and
  rounded half up to whole minutes once.
- **Weekly facts** (``days`` = 7, dated on the Monday of the local week), each a value in [0, 1]
  stored in thousandths: the recurring share of meeting time (0 without meetings), whether
  meeting time exceeded 20 hours, whether after-hours activity fell on 3 or more days, and per
  tool (email, chat, meetings, files) whether the person used it.

The constants are the catalogue's (``domain/metric_catalogue.py``), whose formulas say the same.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from teamlens.domain import EDGE_SCHEMA, FACT_SCHEMA, WorkingHours
from teamlens.domain import metric_catalogue as cat
from teamlens.domain.metrics import SHARE_SCALE
from teamlens.sources.activity import Activity, Meeting
from teamlens.sources.context import ReadContext

#: The source name the combined facts are stored under.
ACTIVITY_SOURCE = "activity"
DAY_SECONDS = 24 * 3600
#: Tools of the adoption metrics, and the metric each one's share is stored as.
TOOL_METRICS = {
    "email": "email_users",
    "chat": "chat_users",
    "meetings": "meeting_users",
    "files": "file_users",
}
DAILY_METRICS = frozenset(
    {
        "large_meeting_minutes",
        "long_meeting_minutes",
        "double_booked_minutes",
        "multitasking_messages",
        "focus_minutes",
        "meeting_free_days",
        "after_hours_collaboration_minutes",
        "weekend_active_days",
        "workweek_span_minutes",
        "email_time_minutes",
        "chat_time_minutes",
        "manager_one_on_one_minutes",
    }
)
WEEKLY_METRICS = frozenset(
    {"recurring_share", "heavy_meeting_weeks", "after_hours_frequent_weeks", *TOOL_METRICS.values()}
)
ACTIVITY_METRICS = DAILY_METRICS | WEEKLY_METRICS
#: Every metric that needs this ingestion's timeline: the combined facts, and the network's edges.
TIMELINE_METRICS = ACTIVITY_METRICS | cat.NETWORK_METRICS
_SEND_SECONDS = {"email": round(cat.EMAIL_SENT_MINUTES * 60), "chat": round(cat.CHAT_POSTED_MINUTES * 60)}
_RECEIVED_SECONDS = round(cat.EMAIL_RECEIVED_MINUTES * 60)
_BLOCKED_SECONDS = 60  # a message sent blocks the minute after it


@dataclass
class _Day:
    """One person's day: meeting parts as (start, end, meeting) seconds from local midnight; sends."""

    parts: list[tuple[int, int, Meeting]] = field(default_factory=list)
    sends: list[tuple[int, str]] = field(default_factory=list)


def working_spans(hours: WorkingHours, day: dt.date) -> list[tuple[int, int]]:
    """The working time of ``day`` as [start, end) seconds from local midnight."""
    if day.weekday() not in hours.days:
        return []
    start = hours.start.hour * 3600 + hours.start.minute * 60 + hours.start.second
    end = hours.end.hour * 3600 + hours.end.minute * 60 + hours.end.second
    if start < end:
        return [(start, end)]
    if start == end:
        return []  # as is_after_hours reads it: no working time at all
    return [(0, end), (start, DAY_SECONDS)]


def activity_facts(activity: Activity, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Yield the combined daily and weekly facts of every person in ``activity``, for ``ctx.metrics``."""
    wanted = ctx.metrics & ACTIVITY_METRICS
    if not wanted or not activity:
        return
    rows: list[tuple[str, dt.date, int, str, int]] = []
    for person in sorted(activity.people()):
        rows += _person_rows(activity, person, ctx.working_hours_of(person))
    rows = [row for row in rows if row[3] in wanted and row[4] > 0]
    for offset in range(0, len(rows), ctx.batch_rows):
        chunk = rows[offset : offset + ctx.batch_rows]
        yield pa.RecordBatch.from_arrays(
            [
                pa.array([row[0] for row in chunk], pa.string()),
                pa.array([row[1] for row in chunk], pa.date32()),
                pa.array([row[2] for row in chunk], pa.int8()),
                pa.array([row[3] for row in chunk], pa.string()),
                pa.array([row[4] for row in chunk], pa.int64()),
                pa.array([ACTIVITY_SOURCE] * len(chunk), pa.string()),
            ],
            schema=FACT_SCHEMA,
        )


def activity_edges(activity: Activity, ctx: ReadContext) -> pa.Table:
    """The collaboration network's edge rows (``EDGE_SCHEMA``) of the kinds ``ctx.metrics`` allows.

    Only rows between two of the staff the directory names are kept (none without a directory):
    an outsider is nobody's colleague and is placed in no group, so their pseudonym is not kept.
    """
    kinds = {kind for name in ctx.metrics & cat.NETWORK_METRICS for kind in cat.NETWORK_KINDS[name]}
    staff = activity.staff or frozenset()
    rows = sorted(
        (key, weight)
        for key, weight in activity.edges.items()
        if key[3] in kinds and key[0] in staff and key[1] in staff and weight > 0
    )
    return pa.Table.from_arrays(
        [
            pa.array([key[0] for key, _ in rows], pa.string()),
            pa.array([key[1] for key, _ in rows], pa.string()),
            pa.array([key[2] for key, _ in rows], pa.date32()),
            pa.array([weight for _, weight in rows], pa.float64()),
            pa.array([key[3] for key, _ in rows], pa.string()),
        ],
        schema=EDGE_SCHEMA,
    )


def _person_rows(
    activity: Activity, person: str, hours: WorkingHours
) -> list[tuple[str, dt.date, int, str, int]]:
    days = _days(activity, person)
    received = activity.received.get(person, Counter())
    for day in received:
        days.setdefault(day, _Day())
    calendar = activity.calendar_days.get(person)
    if calendar is not None:
        day = calendar[0]
        while day <= calendar[1]:
            days.setdefault(day, _Day())
            day += dt.timedelta(days=1)
    manager = activity.managers.get(person)
    rows: list[tuple[str, dt.date, int, str, int]] = []
    weekly: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for day, events in sorted(days.items()):
        spans = working_spans(hours, day)
        covered = calendar is not None and calendar[0] <= day <= calendar[1]
        values, after_active = _daily(events, spans, covered, manager)
        values["email_time_minutes"] += received[day] * _RECEIVED_SECONDS
        rows += [(person, day, 1, name, _minutes(name, value)) for name, value in values.items()]
        week = weekly[day - dt.timedelta(days=day.weekday())]
        week["meeting"] += sum(end - start for start, end, _ in events.parts)
        week["recurring"] += sum(end - start for start, end, meeting in events.parts if meeting.recurring)
        week["after_days"] += after_active
        kinds = {kind for _, kind in events.sends}
        week["meetings"] |= bool(events.parts)
        week["email"] |= "email" in kinds or received[day] > 0
        week["chat"] |= "chat" in kinds
    for monday, tools in activity.tools.get(person, {}).items():
        for tool in tools:
            weekly[monday][tool] = 1
    for monday, week in sorted(weekly.items()):
        rows += _weekly(person, monday, week)
    return rows


def _days(activity: Activity, person: str) -> dict[dt.date, _Day]:
    """``person``'s meetings cut at local midnights, and their sends, by local day."""
    days: dict[dt.date, _Day] = {}
    for meeting in activity.meetings.get(person, []):
        day = meeting.start.date()
        while day <= meeting.end.date():
            midnight = dt.datetime.combine(day, dt.time())
            start = max(0, int((meeting.start - midnight).total_seconds()))
            end = min(DAY_SECONDS, int((meeting.end - midnight).total_seconds()))
            if end > start:
                days.setdefault(day, _Day()).parts.append((start, end, meeting))
            day += dt.timedelta(days=1)
    for instant, kind in activity.sent.get(person, []):
        midnight = dt.datetime.combine(instant.date(), dt.time())
        days.setdefault(instant.date(), _Day()).sends.append(
            (int((instant - midnight).total_seconds()), kind)
        )
    return days


def _daily(
    events: _Day, spans: list[tuple[int, int]], covered: bool, manager: str | None
) -> tuple[Counter[str], bool]:
    """One day's values (seconds for time metrics) and whether it had after-hours activity."""
    values: Counter[str] = Counter()
    if not events.parts and not events.sends:  # most days of a calendar: only focus can be non-zero
        if covered and spans:
            values["focus_minutes"] = sum(_free_stretches([], span) for span in spans)
            values["meeting_free_days"] = 1
        return values, False
    parts = [(start, end) for start, end, _ in events.parts]
    for start, end, meeting in events.parts:
        length = end - start
        values["large_meeting_minutes"] += length * (meeting.people > cat.LARGE_MEETING_PEOPLE)
        values["long_meeting_minutes"] += length * (
            meeting.end - meeting.start > dt.timedelta(minutes=cat.LONG_MEETING_MINUTES)
        )
        if manager is not None and meeting.people == 2 and meeting.partner == manager:
            values["manager_one_on_one_minutes"] += length
    values["double_booked_minutes"] = _covered_twice(parts)
    values["multitasking_messages"] = sum(any(a <= at < b for a, b in parts) for at, _ in events.sends)
    outside = sum(end - start for start, end in parts) - sum(
        _overlap(part, span) for part in parts for span in spans
    )
    late_sends = [kind for at, kind in events.sends if not any(a <= at < b for a, b in spans)]
    values["after_hours_collaboration_minutes"] = outside + sum(_SEND_SECONDS[kind] for kind in late_sends)
    values["weekend_active_days"] = int(not spans and bool(parts or events.sends))
    instants = [at for at, _ in events.sends] + [edge for part in parts for edge in part]
    values["workweek_span_minutes"] = max(instants) - min(instants) if instants else 0
    values["email_time_minutes"] = sum(kind == "email" for _, kind in events.sends) * _SEND_SECONDS["email"]
    values["chat_time_minutes"] = sum(kind == "chat" for _, kind in events.sends) * _SEND_SECONDS["chat"]
    if covered and spans:
        busy = parts + [(at, at + _BLOCKED_SECONDS) for at, _ in events.sends]
        values["focus_minutes"] = sum(_free_stretches(busy, span) for span in spans)
        values["meeting_free_days"] = int(not parts)
    return values, bool(outside or late_sends)


def _weekly(person: str, monday: dt.date, week: Counter[str]) -> list[tuple[str, dt.date, int, str, int]]:
    rows = []
    if week["meeting"]:
        share = (2 * SHARE_SCALE * week["recurring"] + week["meeting"]) // (2 * week["meeting"])  # half up
        rows.append((person, monday, 7, "recurring_share", share))
    heavy = week["meeting"] > cat.HEAVY_MEETING_HOURS * 3600
    rows.append((person, monday, 7, "heavy_meeting_weeks", SHARE_SCALE * heavy))
    frequent = week["after_days"] >= cat.AFTER_HOURS_DAYS
    rows.append((person, monday, 7, "after_hours_frequent_weeks", SHARE_SCALE * frequent))
    rows += [
        (person, monday, 7, metric, SHARE_SCALE * bool(week[tool])) for tool, metric in TOOL_METRICS.items()
    ]
    return rows


def _minutes(name: str, value: int) -> int:
    """Seconds rounded half up to whole minutes for time metrics; counts as they are."""
    return (value + 30) // 60 if name.endswith("_minutes") else value


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _covered_twice(parts: list[tuple[int, int]]) -> int:
    """Seconds during which two or more of ``parts`` run at once."""
    edges = sorted([(start, 1) for start, _ in parts] + [(end, -1) for _, end in parts])
    total, depth, since = 0, 0, 0
    for at, step in edges:
        if depth >= 2:
            total += at - since
        depth, since = depth + step, at
    return total


def _free_stretches(busy: list[tuple[int, int]], span: tuple[int, int]) -> int:
    """Seconds of ``span`` in free stretches of at least the focus block's length outside ``busy``."""
    minimum = cat.FOCUS_BLOCK_MINUTES * 60
    total, cursor = 0, span[0]
    for start, end in sorted(busy):
        gap = min(start, span[1]) - cursor
        if gap >= minimum:
            total += gap
        cursor = max(cursor, end)
    return total + max(0, span[1] - cursor) * (span[1] - cursor >= minimum)

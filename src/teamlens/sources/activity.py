"""One ingestion's timeline of raw events per person, for the metrics that combine sources.

Focus hours need the calendar and the mail and chat sent; after-hours collaboration adds
meetings, mail and chat; 1:1 time with one's manager needs the calendar and the directory. No
single reader sees all of that, so the calendar, mail and chat readers of one ingestion also
record here what they counted (``ReadContext.activity``), and the ingestion turns the timeline
into daily and weekly facts once every input is read (``activity_metrics.activity_facts``),
stored under the source name ``activity``. Times are kept as wall-clock times in the person's
own time zone, keyed by pseudonym, in memory only: the timeline is dropped with the ingestion.

What it sees is what this ingestion read: ingest a period's calendars, mail and chat together
(the same ``teamlens ingest`` call). A later ingestion of some of them recomputes the combined
facts of the days it covers from what it reads, and the store keeps the last value per day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Meeting:
    """One attended meeting occurrence, as the attendee lived it (naive local wall-clock times)."""

    start: dt.datetime
    end: dt.datetime
    people: int
    recurring: bool
    #: The other person's pseudonym when the meeting has exactly two people, else None.
    partner: str | None = None


@dataclass
class Activity:
    """The raw events of one ingestion, per pseudonym (``record_*`` are called by the readers).

    Readers record only when ``enabled`` (the policy allows a metric that combines sources), so
    an ingestion that needs none keeps no timeline.
    """

    enabled: bool = False
    meetings: dict[str, list[Meeting]] = field(default_factory=dict)
    #: Instants the person sent an email or posted a chat message: (local time, "email" or "chat").
    sent: dict[str, list[tuple[dt.datetime, str]]] = field(default_factory=dict)
    #: Emails delivered to the person, per local day.
    received: dict[str, Counter[dt.date]] = field(default_factory=dict)
    #: Per person whose calendar was read, the first and last local day it covers.
    calendar_days: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    #: Per person and week (its Monday), the tools their facts show they used: "email", "chat", …
    tools: dict[str, dict[dt.date, set[str]]] = field(default_factory=dict)
    #: The manager's pseudonym per person, from this ingestion's directory.
    managers: dict[str, str] = field(default_factory=dict)
    #: The people this ingestion's directory names (None without one): calendars and mail also
    #: name outsiders, who get no combined facts (focus hours of a customer mean nothing).
    staff: frozenset[str] | None = None
    #: The collaboration network's weights: (person, partner, local day, kind) → weight, where kind
    #: is "email", "chat" (a message's 1 split over its partners) or "meeting" (minutes split).
    edges: dict[tuple[str, str, dt.date, str], float] = field(default_factory=dict)

    def record_meeting(self, person: str, meeting: Meeting) -> None:
        """``person`` attended ``meeting``."""
        self.meetings.setdefault(person, []).append(meeting)

    def record_calendar(self, person: str, first: dt.date, last: dt.date) -> None:
        """``person``'s calendar was read from ``first`` to ``last`` (local days, inclusive)."""
        known = self.calendar_days.get(person)
        self.calendar_days[person] = (min(first, known[0]), max(last, known[1])) if known else (first, last)

    def record_sent(self, person: str, local: dt.datetime, kind: str) -> None:
        """``person`` sent an email (``kind`` "email") or posted a chat message ("chat") at ``local``."""
        self.sent.setdefault(person, []).append((local.replace(tzinfo=None), kind))

    def record_received(self, person: str, day: dt.date) -> None:
        """An email was delivered to ``person`` on their local ``day``."""
        self.received.setdefault(person, Counter())[day] += 1

    def record_tool(self, person: str, day: dt.date, tool: str) -> None:
        """A usage report says ``person`` used ``tool`` in the ISO week of ``day``."""
        monday = day - dt.timedelta(days=day.weekday())
        self.tools.setdefault(person, {}).setdefault(monday, set()).add(tool)

    def record_edge(
        self, person: str, partners: Sequence[str], day: dt.date, weight: float, kind: str
    ) -> None:
        """``person`` sent a message (or spent ``weight`` minutes in a meeting) towards ``partners``.

        ``weight`` is split evenly over the distinct ``partners`` other than ``person``; nothing is
        recorded without one.
        """
        others = [partner for partner in dict.fromkeys(partners) if partner != person]
        for partner in others:
            key = (person, partner, day, kind)
            self.edges[key] = self.edges.get(key, 0.0) + weight / len(others)

    def people(self) -> set[str]:
        """Everyone with something recorded who is one of the staff (everyone, without a directory)."""
        found = set(self.meetings) | set(self.sent) | set(self.calendar_days)
        found |= set(self.received) | set(self.tools)
        return found if self.staff is None else found & self.staff

    def __bool__(self) -> bool:
        return bool(
            self.meetings or self.sent or self.received or self.calendar_days or self.tools or self.edges
        )

"""What the live pulls put in an ingestion's timeline (``activity.py``), item by item.

Graph's counter records a meeting as its attendee lived it (local wall-clock times in their own
zone, head count, recurrence, the other person of a two) and a message sent at its local time;
the Reports API reducer records gmail sent and received and chat posts. Nothing excluded by the
policy, and nothing outside the days the pull keeps, reaches the timeline; a disabled timeline
stays empty.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.activity import Activity, Meeting
from teamlens.sources.exclusions import AddressExclusions
from teamlens.sources.google_activities import ActivityReducer, Clock, DailyTally, Where
from teamlens.sources.graph_metadata import MetadataCounter

from .test_google_reports import ANA, BEN, chat, context, gmail, pseudonymiser
from .test_graph_live import event, sent

WHERE = Where("graph.toml", None, "value[0]")
FIRST, END = dt.date(2024, 1, 8), dt.date(2024, 1, 15)


def _graph(ctx: ReadContext) -> MetadataCounter:
    tally = DailyTally("graph_live", ctx.metrics, FIRST, END)
    excluded = AddressExclusions(ctx.exclusions)
    return MetadataCounter(tally, Clock(ctx), excluded, ctx.messages, ctx.activity, ctx.pseudonymise)


def _with_timeline(ctx: ReadContext) -> ReadContext:
    return dataclasses.replace(ctx, activity=Activity(enabled=True))


def test_a_graph_meeting_is_recorded_in_the_attendees_own_zone_with_the_other_person() -> None:
    ctx = _with_timeline(context(zones={ANA: "Asia/Tokyo"}))
    counter = _graph(ctx)
    ana, ben = pseudonymiser()(ANA), pseudonymiser()(BEN)
    counter.event(ana, event("2024-01-08T14:00:00", 90, attendees=(BEN,), kind="occurrence"), WHERE)
    counter.event(ana, event("2024-01-09T09:00:00", 30, attendees=(BEN, "c@example.org")), WHERE)
    start = dt.datetime(2024, 1, 8, 23, 0)  # 14:00 UTC is 23:00 in Tokyo
    assert ctx.activity.meetings[ana] == [
        Meeting(start, start + dt.timedelta(minutes=90), 2, True, ben),
        Meeting(dt.datetime(2024, 1, 9, 18, 0), dt.datetime(2024, 1, 9, 18, 30), 3, False, None),
    ]


def test_graph_items_excluded_or_outside_the_pull_never_reach_the_timeline() -> None:
    ctx = _with_timeline(context(domains=("union.example",)))
    counter = _graph(ctx)
    ana = pseudonymiser()(ANA)
    counter.event(ana, event("2024-01-08T09:00:00", 30, attendees=("rep@union.example",)), WHERE)
    counter.event(ana, event("2024-01-15T09:00:00", 30), WHERE)  # the day after the pull's last
    counter.event(ana, event("2024-01-08T12:00:00", 30, show="tentative"), WHERE)
    counter.message(ana, sent("2024-01-08T10:00:00Z", to=("rep@union.example",)), WHERE)
    counter.message(ana, sent("2024-01-07T10:00:00Z"), WHERE)
    assert not ctx.activity
    counter.message(ana, sent("2024-01-08T10:00:00Z"), WHERE)
    assert ctx.activity.sent[ana] == [(dt.datetime(2024, 1, 8, 10, 0), "email")]


def test_a_disabled_timeline_stays_empty() -> None:
    ctx = context()
    counter = _graph(ctx)
    counter.event(pseudonymiser()(ANA), event("2024-01-08T09:00:00", 30), WHERE)
    assert not ctx.activity and not ctx.activity.meetings


def test_reports_api_mail_and_chat_are_recorded_where_the_person_works() -> None:
    ctx = _with_timeline(context(zones={BEN: "America/New_York"}))
    reducer = ActivityReducer(ctx, ReadReport(), DailyTally("google_reports_live", ctx.metrics, FIRST, END))
    for item in (
        gmail(ANA, "2024-01-08T10:00:00.000Z", 1),
        gmail(ANA, "2024-01-08T11:00:00.000Z", 2),
        gmail(ANA, "2024-01-08T11:05:00.000Z", 7),  # opened: not a message sent or received
        chat(BEN, "2024-01-09T03:00:00Z"),
        chat(BEN, "2024-01-20T12:00:00Z"),  # outside the pull's days
    ):
        reducer.add(item, WHERE)
    ana, ben = pseudonymiser()(ANA), pseudonymiser()(BEN)
    assert ctx.activity.sent == {
        ana: [(dt.datetime(2024, 1, 8, 10, 0), "email")],
        ben: [(dt.datetime(2024, 1, 8, 22, 0), "chat")],
    }
    assert dict(ctx.activity.received[ana]) == {dt.date(2024, 1, 8): 1}

"""The closed catalogue of metrics teamlens can compute.

Every metric is a per-person, per-period integer counter with a declared formula (requirement
R9: no model, no score, no inference about a person). Time is stored as whole minutes so that
noise is added to integers. A policy names the metrics it allows and their per-week bounds;
connectors may only produce metrics listed here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Unit(enum.StrEnum):
    """How a metric is counted and shown."""

    COUNT = "count"
    MINUTES = "minutes"


@dataclass(frozen=True)
class MetricDef:
    """A metric: its stored integer unit, how it is shown, and the formula it comes from."""

    name: str
    label: str
    unit: Unit
    formula: str

    @property
    def display_unit(self) -> str:
        """The unit people read: hours for time, the count otherwise."""
        return "hours" if self.unit is Unit.MINUTES else self.label.lower()

    @property
    def display_divisor(self) -> int:
        """Divide the stored integer by this to get the displayed unit."""
        return 60 if self.unit is Unit.MINUTES else 1


def _m(name: str, label: str, unit: Unit, formula: str) -> MetricDef:
    return MetricDef(name, label, unit, formula)


_ALL = [
    _m("emails_sent", "Emails sent", Unit.COUNT, "messages the person sent"),
    _m("emails_received", "Emails received", Unit.COUNT, "messages delivered to the person"),
    _m("emails_read", "Emails read", Unit.COUNT, "messages the person opened"),
    _m(
        "email_recipients",
        "Email recipients",
        Unit.COUNT,
        "distinct To, Cc and Bcc addresses on each message the person sent, added up over the "
        "messages (divided by emails sent, the recipients per email)",
    ),
    _m(
        "after_hours_emails",
        "After-hours emails sent",
        Unit.COUNT,
        "messages sent outside the person's working hours or on a non-working day",
    ),
    _m("meetings_created", "Meetings created", Unit.COUNT, "meeting invitations the person created"),
    _m(
        "meetings_interacted",
        "Meetings interacted",
        Unit.COUNT,
        "meeting invitations the person accepted, declined or answered",
    ),
    _m("meetings_organized", "Meetings organised", Unit.COUNT, "online meetings the person organised"),
    _m("meetings_attended", "Meetings attended", Unit.COUNT, "meetings the person attended"),
    # Teams splits online meetings by how they were set up; a meeting of no known type is in
    # the totals above but in none of these (Microsoft does not export "unclassified").
    _m(
        "adhoc_meetings_organized",
        "Ad hoc meetings organised",
        Unit.COUNT,
        "unscheduled online meetings the person started (such as Teams 'Meet now')",
    ),
    _m(
        "adhoc_meetings_attended",
        "Ad hoc meetings attended",
        Unit.COUNT,
        "unscheduled online meetings the person joined",
    ),
    _m(
        "one_time_meetings_organized",
        "One-time meetings organised",
        Unit.COUNT,
        "scheduled online meetings that do not repeat, organised by the person",
    ),
    _m(
        "one_time_meetings_attended",
        "One-time meetings attended",
        Unit.COUNT,
        "scheduled online meetings that do not repeat, joined by the person",
    ),
    _m(
        "recurring_meetings_organized",
        "Recurring meetings organised",
        Unit.COUNT,
        "occurrences of repeating scheduled online meetings organised by the person",
    ),
    _m(
        "meeting_minutes",
        "Meeting hours",
        Unit.MINUTES,
        "time in calls and meetings (Teams audio time, calendar meetings accepted or Meet calls)",
    ),
    _m("large_meetings", "Large meetings", Unit.COUNT, "meetings attended with more than 8 attendees"),
    _m("long_meetings", "Long meetings", Unit.COUNT, "meetings attended lasting over one hour"),
    _m(
        "recurring_meetings",
        "Recurring meetings",
        Unit.COUNT,
        "attended meetings that repeat, each occurrence once (calendar series, or Teams scheduled "
        "recurring meetings joined)",
    ),
    _m(
        "video_minutes",
        "Video hours",
        Unit.MINUTES,
        "time with video in the person's Teams meetings and calls (Teams video time)",
    ),
    _m(
        "screen_share_minutes",
        "Screen-sharing hours",
        Unit.MINUTES,
        "time with a shared screen in the person's Teams meetings and calls (Teams screen-share time)",
    ),
    _m(
        "focus_blocks",
        "Focus blocks",
        Unit.COUNT,
        "stretches of two hours or more without meetings inside working hours",
    ),
    _m("chat_messages", "Chat messages", Unit.COUNT, "team and private chat messages the person posted"),
    _m("thread_replies", "Thread replies", Unit.COUNT, "chat replies the person posted in threads"),
    _m("reactions_given", "Reactions given", Unit.COUNT, "emoji reactions the person added"),
    _m("channels_active", "Channels active", Unit.COUNT, "channels the person posted in"),
    _m("calls", "Calls", Unit.COUNT, "one-to-one and group calls the person took part in"),
    _m("files_edited", "Files viewed or edited", Unit.COUNT, "files the person viewed or edited"),
    _m(
        "files_shared_internally",
        "Files shared internally",
        Unit.COUNT,
        "files the person shared inside the organisation",
    ),
    _m(
        "files_shared_externally",
        "Files shared externally",
        Unit.COUNT,
        "files the person shared outside the organisation",
    ),
    _m(
        "after_hours_minutes",
        "After-hours collaboration hours",
        Unit.MINUTES,
        "collaboration time outside the person's working hours",
    ),
    _m(
        "collaboration_minutes",
        "Collaboration hours",
        Unit.MINUTES,
        "meeting, email and chat time as estimated by the source",
    ),
    _m(
        "email_minutes",
        "Email hours",
        Unit.MINUTES,
        "time writing and reading email as estimated by the source (Viva Insights email hours)",
    ),
    _m(
        "chat_minutes",
        "Chat hours",
        Unit.MINUTES,
        "time sending and reading chat messages as estimated by the source (Viva Insights chat "
        "hours; channel posts are not included)",
    ),
    _m(
        "network_size",
        "Internal network size",
        Unit.COUNT,
        "people inside the organisation the person collaborated with in the week, as counted by "
        "the source (Viva Insights internal network size); a weekly figure, so releases show its "
        "weekly average",
    ),
    _m("apps_active", "Apps active", Unit.COUNT, "Microsoft 365 apps the person used in the period"),
]

METRICS: dict[str, MetricDef] = {metric.name: metric for metric in _ALL}


def metric(name: str) -> MetricDef:
    """Look up a metric by name; raises ``KeyError`` naming the known metrics."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric '{name}' (known: {', '.join(sorted(METRICS))})") from None

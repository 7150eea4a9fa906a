"""The catalogue's entries, grouped by the question they answer (read through ``metrics.METRICS``).

Metrics computed from raw events (calendars, mailboxes, chat exports) follow the rules of
``sources/activity_metrics.py``: times are wall-clock times in each person's own time zone, a
person's working hours are the directory's or else the policy's, and the per-item time
assumptions are the constants below. Imported-only metrics (Viva Insights) say so in their formula.
"""

from __future__ import annotations

from teamlens.domain.metrics import SHARE_SCALE, MetricDef
from teamlens.domain.metrics import Question as Q
from teamlens.domain.metrics import Unit as U

#: Time assumed per item for email and chat hours computed from counts (minutes, stated in the
#: definitions): writing an email, reading one, posting a chat message.
EMAIL_SENT_MINUTES = 5.0
EMAIL_RECEIVED_MINUTES = 2.5
CHAT_POSTED_MINUTES = 1.0
#: Meetings with more than this many people are large; longer than this many minutes, long.
LARGE_MEETING_PEOPLE = 8
LONG_MEETING_MINUTES = 60
#: A focus block lasts at least this long; heavy meeting load is more than this many hours a week.
FOCUS_BLOCK_MINUTES = 120
HEAVY_MEETING_HOURS = 20
#: After-hours activity on at least this many days of a week counts as not disconnecting.
AFTER_HOURS_DAYS = 3
#: The metrics of the collaboration network: weights between people, released between groups only.
NETWORK_MESSAGES = "network_messages"
NETWORK_MEETING_MINUTES = "network_meeting_minutes"
#: Which kinds of edge row (``store._collaboration.EDGE_SCHEMA``'s ``source``) each one sums.
NETWORK_KINDS = {NETWORK_MESSAGES: ("chat", "email"), NETWORK_MEETING_MINUTES: ("meeting",)}
NETWORK_METRICS = frozenset(NETWORK_KINDS)

# Kinds of export, as the catalogue names them.
CAL = "calendar (iCalendar, Microsoft Graph, Google Calendar)"
MAIL = "mail headers (mbox, Maildir, Microsoft Graph)"
CHAT = "chat export (Slack)"
M365 = "Microsoft 365 usage reports"
GOOGLE = "Google Workspace reports"
VIVA = "Viva Insights person query"
DIRECTORY = "directory with manager links (HR CSV)"
# The raw events the metrics of ``sources/activity_metrics.py`` are computed from (the live pulls
# feed them too: Graph's calendars and Sent Items, the Reports API's gmail and chat).
ICS = "iCalendar export; Microsoft Graph calendars (live)"
MBOX = "mail headers (mbox, Maildir; Microsoft Graph Sent Items, Google gmail, live)"
SLACK = "Slack export; Google Chat (live)"

_HOURS = "time; a meeting's length is its scheduled length, not whether anyone paid attention"
_COUNTS = "how much was written or read, or whether it was useful"


def _m(
    name: str,
    label: str,
    unit: U,
    formula: str,
    question: Q,
    sources: tuple[str, ...],
    bound: int,
    not_measured: str = "",
) -> MetricDef:
    return MetricDef(name, label, unit, formula, question, sources, bound, not_measured)


_SHARE = SHARE_SCALE

MEETING_LOAD = [
    _m(
        "meetings_attended",
        "Meetings attended",
        U.COUNT,
        "meetings the person attended",
        Q.MEETING_LOAD,
        (CAL, M365, GOOGLE),
        25,
        "whether the person spoke or was needed",
    ),
    _m(
        "meeting_minutes",
        "Meeting hours",
        U.MINUTES,
        "time in calls and meetings (Teams audio time, calendar meetings accepted or Meet calls)",
        Q.MEETING_LOAD,
        (CAL, M365, GOOGLE, VIVA),
        30 * 60,
        _HOURS,
    ),
    _m(
        "meetings_created",
        "Meetings created",
        U.COUNT,
        "meeting invitations the person created",
        Q.MEETING_LOAD,
        (M365,),
        30,
    ),
    _m(
        "meetings_interacted",
        "Meetings interacted",
        U.COUNT,
        "meeting invitations the person accepted, declined or answered",
        Q.MEETING_LOAD,
        (M365,),
        50,
    ),
    _m(
        "meetings_organized",
        "Meetings organised",
        U.COUNT,
        "online meetings the person organised",
        Q.MEETING_LOAD,
        (M365,),
        30,
    ),
    # Teams splits online meetings by how they were set up; a meeting of no known type is in
    # the totals above but in none of these (Microsoft does not export "unclassified").
    _m(
        "adhoc_meetings_organized",
        "Ad hoc meetings organised",
        U.COUNT,
        "unscheduled online meetings the person started (such as Teams 'Meet now')",
        Q.MEETING_LOAD,
        (M365,),
        20,
    ),
    _m(
        "adhoc_meetings_attended",
        "Ad hoc meetings attended",
        U.COUNT,
        "unscheduled online meetings the person joined",
        Q.MEETING_LOAD,
        (M365,),
        20,
    ),
    _m(
        "one_time_meetings_organized",
        "One-time meetings organised",
        U.COUNT,
        "scheduled online meetings that do not repeat, organised by the person",
        Q.MEETING_LOAD,
        (M365,),
        20,
    ),
    _m(
        "one_time_meetings_attended",
        "One-time meetings attended",
        U.COUNT,
        "scheduled online meetings that do not repeat, joined by the person",
        Q.MEETING_LOAD,
        (M365,),
        25,
    ),
    _m(
        "recurring_meetings_organized",
        "Recurring meetings organised",
        U.COUNT,
        "occurrences of repeating scheduled online meetings organised by the person",
        Q.MEETING_LOAD,
        (M365,),
        20,
    ),
    _m(
        "large_meetings",
        "Large meetings",
        U.COUNT,
        f"meetings attended with more than {LARGE_MEETING_PEOPLE} attendees",
        Q.MEETING_LOAD,
        (CAL,),
        15,
    ),
    _m(
        "long_meetings",
        "Long meetings",
        U.COUNT,
        f"meetings attended lasting over {LONG_MEETING_MINUTES} minutes",
        Q.MEETING_LOAD,
        (CAL,),
        15,
    ),
    _m(
        "recurring_meetings",
        "Recurring meetings",
        U.COUNT,
        "attended meetings that repeat, each occurrence once (calendar series, or Teams scheduled "
        "recurring meetings joined)",
        Q.MEETING_LOAD,
        (CAL, M365),
        25,
    ),
    _m(
        "video_minutes",
        "Video hours",
        U.MINUTES,
        "time with video in the person's Teams meetings and calls (Teams video time)",
        Q.MEETING_LOAD,
        (M365,),
        20 * 60,
    ),
    _m(
        "screen_share_minutes",
        "Screen-sharing hours",
        U.MINUTES,
        "time with a shared screen in the person's Teams meetings and calls (Teams screen-share time)",
        Q.MEETING_LOAD,
        (M365,),
        10 * 60,
    ),
    _m(
        "calls",
        "Calls",
        U.COUNT,
        "one-to-one and group calls the person took part in",
        Q.MEETING_LOAD,
        (M365,),
        40,
    ),
    _m(
        "large_meeting_minutes",
        "Hours in large meetings",
        U.MINUTES,
        f"time in attended calendar meetings with more than {LARGE_MEETING_PEOPLE} people (rooms and "
        "resources left out), on each local day the meeting covers",
        Q.MEETING_LOAD,
        (ICS,),
        20 * 60,
        _HOURS,
    ),
    _m(
        "long_meeting_minutes",
        "Hours in long meetings",
        U.MINUTES,
        f"time in attended calendar meetings scheduled for more than {LONG_MEETING_MINUTES} minutes, on "
        "each local day the meeting covers",
        Q.MEETING_LOAD,
        (ICS,),
        20 * 60,
        _HOURS,
    ),
    _m(
        "recurring_share",
        "Recurring share of meeting time",
        U.SHARE,
        "per person and week, the part of their calendar meeting time in occurrences of a repeating "
        "series (0 in a week without meetings); the mean over person-weeks",
        Q.MEETING_LOAD,
        (ICS,),
        _SHARE,
        "whether a recurring meeting is still needed",
    ),
    _m(
        "heavy_meeting_weeks",
        f"Share of people over {HEAVY_MEETING_HOURS} meeting hours",
        U.SHARE,
        f"per person and week, 1 when their calendar meeting time exceeds {HEAVY_MEETING_HOURS} hours, "
        "else 0; the mean over person-weeks",
        Q.MEETING_LOAD,
        (ICS,),
        _SHARE,
        _HOURS,
    ),
    _m(
        "multitasking_messages",
        "Messages sent during meetings",
        U.COUNT,
        "emails and chat messages the person sent while in one of their own attended calendar meetings",
        Q.MEETING_LOAD,
        (ICS, MBOX, SLACK),
        60,
        "attention; a message may be part of the meeting's work",
    ),
    _m(
        "double_booked_minutes",
        "Double-booked meeting hours",
        U.MINUTES,
        "time covered by two or more of the person's attended calendar meetings at once",
        Q.MEETING_LOAD,
        (ICS,),
        10 * 60,
        "which of the meetings the person went to",
    ),
]

FOCUS = [
    _m(
        "focus_blocks",
        "Focus blocks",
        U.COUNT,
        f"stretches of {FOCUS_BLOCK_MINUTES // 60} hours or more without meetings inside working hours",
        Q.FOCUS,
        (CAL,),
        10,
        "what the person did with the time",
    ),
    _m(
        "focus_minutes",
        "Focus hours",
        U.MINUTES,
        f"on working days, the length of stretches of {FOCUS_BLOCK_MINUTES} minutes or more inside the "
        "person's working hours with no attended meeting and no email or chat message sent (where mail "
        "and chat were read in the same ingestion)",
        Q.FOCUS,
        (ICS, MBOX, SLACK),
        40 * 60,
        "concentration: a free calendar is not focused work, and leave looks like focus",
    ),
    _m(
        "meeting_free_days",
        "Meeting-free days",
        U.COUNT,
        "working days (by the person's working pattern) inside the calendar's dates with no attended meeting",
        Q.FOCUS,
        (ICS,),
        7,
        "leave and absence, which also have no meetings",
    ),
]

DISCONNECT = [
    _m(
        "after_hours_emails",
        "After-hours emails sent",
        U.COUNT,
        "messages sent outside the person's working hours or on a non-working day",
        Q.DISCONNECT,
        (MAIL,),
        50,
    ),
    _m(
        "after_hours_minutes",
        "After-hours collaboration hours (Viva)",
        U.MINUTES,
        "collaboration time outside the person's working hours, as estimated by Viva Insights",
        Q.DISCONNECT,
        (VIVA,),
        20 * 60,
    ),
    _m(
        "after_hours_collaboration_minutes",
        "After-hours collaboration hours",
        U.MINUTES,
        "attended calendar meeting time outside the person's working hours (in their time zone, and all "
        f"of a non-working day), plus {EMAIL_SENT_MINUTES:g} minutes per email and "
        f"{CHAT_POSTED_MINUTES:g} per chat message sent outside them",
        Q.DISCONNECT,
        (ICS, MBOX, SLACK),
        20 * 60,
        "agreed shifts or flexible hours the directory does not record",
    ),
    _m(
        "weekend_active_days",
        "Active non-working days",
        U.COUNT,
        "non-working days (weekends by the person's working pattern) with an attended meeting or an "
        "email or chat message sent",
        Q.DISCONNECT,
        (ICS, MBOX, SLACK),
        3,
    ),
    _m(
        "workweek_span_minutes",
        "Workweek span",
        U.MINUTES,
        "per day, the time from the person's first to their last activity (start or end of an attended "
        "meeting, an email or chat message sent), added up over the week",
        Q.DISCONNECT,
        (ICS, MBOX, SLACK),
        70 * 60,
        "hours worked: a long span may hold long breaks",
    ),
    _m(
        "after_hours_frequent_weeks",
        f"Share of people active after hours on {AFTER_HOURS_DAYS}+ days",
        U.SHARE,
        f"per person and week, 1 when they had after-hours activity on {AFTER_HOURS_DAYS} or more "
        "days (as for after-hours collaboration hours), else 0; the mean over person-weeks",
        Q.DISCONNECT,
        (ICS, MBOX, SLACK),
        _SHARE,
    ),
]

EMAIL_CHAT = [
    _m(
        "emails_sent",
        "Emails sent",
        U.COUNT,
        "messages the person sent",
        Q.EMAIL_CHAT,
        (MAIL, M365, GOOGLE),
        100,
        _COUNTS,
    ),
    _m(
        "emails_received",
        "Emails received",
        U.COUNT,
        "messages delivered to the person",
        Q.EMAIL_CHAT,
        (MAIL, M365, GOOGLE),
        300,
        _COUNTS,
    ),
    _m(
        "emails_read",
        "Emails read",
        U.COUNT,
        "messages the person opened",
        Q.EMAIL_CHAT,
        (M365, GOOGLE),
        300,
        _COUNTS,
    ),
    _m(
        "email_recipients",
        "Email recipients",
        U.COUNT,
        "distinct To, Cc and Bcc addresses on each message the person sent, added up over the "
        "messages (divided by emails sent, the recipients per email)",
        Q.EMAIL_CHAT,
        (MAIL,),
        500,
    ),
    _m(
        "chat_messages",
        "Chat messages",
        U.COUNT,
        "team and private chat messages the person posted",
        Q.EMAIL_CHAT,
        (CHAT, M365, GOOGLE),
        200,
        _COUNTS,
    ),
    _m(
        "thread_replies",
        "Thread replies",
        U.COUNT,
        "chat replies the person posted in threads",
        Q.EMAIL_CHAT,
        (CHAT,),
        100,
    ),
    _m(
        "reactions_given",
        "Reactions given",
        U.COUNT,
        "emoji reactions the person added",
        Q.EMAIL_CHAT,
        (CHAT,),
        100,
    ),
    _m(
        "email_minutes",
        "Email hours (Viva)",
        U.MINUTES,
        "time writing and reading email as estimated by the source (Viva Insights email hours)",
        Q.EMAIL_CHAT,
        (VIVA,),
        20 * 60,
    ),
    _m(
        "chat_minutes",
        "Chat hours (Viva)",
        U.MINUTES,
        "time sending and reading chat messages as estimated by the source (Viva Insights chat "
        "hours; channel posts are not included)",
        Q.EMAIL_CHAT,
        (VIVA,),
        10 * 60,
    ),
    _m(
        "email_time_minutes",
        "Email hours",
        U.MINUTES,
        f"{EMAIL_SENT_MINUTES:g} minutes per email the person sent and {EMAIL_RECEIVED_MINUTES:g} per "
        "email delivered to them (assumed times per item, rounded to whole minutes per day)",
        Q.EMAIL_CHAT,
        (MBOX,),
        20 * 60,
        "time actually spent: the minutes per item are an assumption",
    ),
    _m(
        "chat_time_minutes",
        "Chat hours",
        U.MINUTES,
        f"{CHAT_POSTED_MINUTES:g} minute per chat message the person posted (an assumed time per item; "
        "reading is not in the exports)",
        Q.EMAIL_CHAT,
        (SLACK,),
        10 * 60,
        "time actually spent, or time reading chat",
    ),
]

MANAGER_TIME = [
    _m(
        "manager_one_on_one_minutes",
        "1:1 hours with one's manager",
        U.MINUTES,
        "time in attended calendar meetings of exactly two people: the person and the manager the "
        "directory names for them",
        Q.MANAGER_TIME,
        (ICS, DIRECTORY),
        5 * 60,
        "support given outside meetings, or meetings with other managers",
    ),
]

COLLABORATION = [
    _m(
        "channels_active",
        "Channels active",
        U.COUNT,
        "channels the person posted in",
        Q.EMAIL_CHAT,
        (CHAT,),
        30,
    ),
    _m(
        "files_edited",
        "Files viewed or edited",
        U.COUNT,
        "files the person viewed or edited",
        Q.ADOPTION,
        (M365, GOOGLE),
        200,
    ),
    _m(
        "files_shared_internally",
        "Files shared internally",
        U.COUNT,
        "files the person shared inside the organisation",
        Q.COLLABORATION,
        (M365, GOOGLE),
        50,
    ),
    _m(
        "files_shared_externally",
        "Files shared externally",
        U.COUNT,
        "files the person shared outside the organisation",
        Q.COLLABORATION,
        (M365, GOOGLE),
        20,
    ),
    _m(
        "collaboration_minutes",
        "Collaboration hours",
        U.MINUTES,
        "meeting, email and chat time as estimated by the source",
        Q.COLLABORATION,
        (VIVA,),
        40 * 60,
    ),
    _m(
        "network_size",
        "Internal network size",
        U.COUNT,
        "people inside the organisation the person collaborated with in the week, as counted by "
        "the source (Viva Insights internal network size); a weekly figure, so releases show its "
        "weekly average",
        Q.COLLABORATION,
        (VIVA,),
        100,
    ),
    # The collaboration network's weights: released only by a network report (``kind = "network"``),
    # as totals between pairs of groups, never per person; ``per_week`` is the network's bound B.
    _m(
        NETWORK_MESSAGES,
        "Messages between groups",
        U.COUNT,
        "emails and chat messages the person sent to colleagues, each message weighing 1 split evenly "
        "over its colleagues (an email's To, Cc and Bcc; a Slack message's thread, or for a message "
        "outside a thread the others who posted in that conversation that day); a network report sums "
        "them per pair of groups, each person's sending and receiving bounded together in L1",
        Q.COLLABORATION,
        (MBOX, SLACK),
        100,
        "messages to people outside the directory, or who read them",
    ),
    _m(
        NETWORK_MEETING_MINUTES,
        "Meeting hours between groups",
        U.MINUTES,
        "attended calendar meeting time, each attendee's time split evenly over the other attendees; a "
        "network report sums it per pair of groups, each person's bounded in L1",
        Q.COLLABORATION,
        (ICS,),
        20 * 60,
        _HOURS,
    ),
]

_ACTIVE = "per person and week, 1 when they"
ADOPTION = [
    _m(
        "apps_active",
        "Apps active",
        U.COUNT,
        "Microsoft 365 apps the person used in the period",
        Q.ADOPTION,
        (M365,),
        10,
    ),
    _m(
        "email_users",
        "Share of people using email",
        U.SHARE,
        f"{_ACTIVE} sent or received an email (any mail source or usage report), else 0; the mean over "
        "person-weeks",
        Q.ADOPTION,
        (MBOX, M365, GOOGLE),
        _SHARE,
        "how well the tool serves them",
    ),
    _m(
        "chat_users",
        "Share of people using chat",
        U.SHARE,
        f"{_ACTIVE} posted a chat message or reaction, else 0; the mean over person-weeks",
        Q.ADOPTION,
        (SLACK, M365, GOOGLE),
        _SHARE,
        "reading without posting",
    ),
    _m(
        "meeting_users",
        "Share of people in meetings or calls",
        U.SHARE,
        f"{_ACTIVE} attended a meeting or call, else 0; the mean over person-weeks",
        Q.ADOPTION,
        (ICS, M365, GOOGLE),
        _SHARE,
    ),
    _m(
        "file_users",
        "Share of people using shared files",
        U.SHARE,
        f"{_ACTIVE} viewed, edited or shared a file, else 0; the mean over person-weeks",
        Q.ADOPTION,
        (M365, GOOGLE),
        _SHARE,
    ),
]

ALL = [*MEETING_LOAD, *FOCUS, *DISCONNECT, *EMAIL_CHAT, *MANAGER_TIME, *COLLABORATION, *ADOPTION]

"""Microsoft Graph calendar events and sent messages → person-day counts (metadata only).

The requests name their fields with ``$select`` (:data:`CALENDAR_SELECT`, :data:`MAIL_SELECT`),
so subjects, bodies, locations and attachments are never fetched. What counts:

- a **calendar event** is a meeting the mailbox owner attended when it is not cancelled, not
  all-day, not a series master, shown as ``busy`` (accepted or organised; tentative and free
  are not attendance), and has at least one attendee. It gives ``meetings_attended`` +1 and
  ``meeting_minutes`` (end − start), plus ``long_meetings`` (over 60 minutes),
  ``large_meetings`` (more than 8 distinct non-resource people, organiser included) and
  ``recurring_meetings`` (an occurrence or exception of a series), on the local day it starts;
- a **sent message** gives ``emails_sent`` +1, ``email_recipients`` + the number of distinct
  addresses in its ``toRecipients``, ``ccRecipients`` and ``bccRecipients``, and
  ``after_hours_emails`` +1 when sent outside the owner's working days and hours, on the local
  day it was sent. Sent Items holds only the mailbox owner's own messages, so only the owner
  is counted.

When the ingestion keeps a timeline for the metrics that combine sources (``activity.py``), each
meeting counted is also recorded there as its attendee lived it (local times, head count,
recurrence, the other person of a two-person meeting) and each message sent at its local time,
for the days the pull covers.

An event or message with any attendee, organiser, sender or recipient whose address or domain
the policy excludes is dropped before counting (R18). Addresses are compared and forgotten;
none is kept. Times are asked for in UTC (``Prefer: outlook.timezone="UTC"``); an IANA zone is
also understood.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from teamlens.pseudonymise import normalise_identifier
from teamlens.sources.activity import Activity, Meeting
from teamlens.sources.exclusions import AddressExclusions
from teamlens.sources.google_activities import (
    Clock,
    DailyTally,
    Where,
    parse_time,
    plausible,
)
from teamlens.sources.message_ledger import SeenMessages

CALENDAR_SELECT = (
    "start,end,isAllDay,isCancelled,showAs,type,seriesMasterId,attendees,organizer,isOnlineMeeting"
)
MAIL_SELECT = "sentDateTime,toRecipients,ccRecipients,bccRecipients,from,internetMessageId"
CALENDAR_METRICS = frozenset(
    {"meetings_attended", "meeting_minutes", "long_meetings", "large_meetings", "recurring_meetings"}
)
MAIL_METRICS = frozenset({"emails_sent", "after_hours_emails", "email_recipients"})
_RECIPIENT_FIELDS = ("toRecipients", "ccRecipients", "bccRecipients")
_LARGE = 8
_LONG = dt.timedelta(hours=1)


def _address(recipient: object) -> str | None:
    """The address inside a Graph ``recipient``/``attendee`` (``{"emailAddress": {"address": …}}``)."""
    if isinstance(recipient, dict):
        inner = recipient.get("emailAddress")
        if isinstance(inner, dict) and isinstance(inner.get("address"), str):
            return str(inner["address"])
    return None


def _recipients(item: dict[str, object], names: tuple[str, ...], where: Where) -> Iterator[dict[str, object]]:
    for name in names:
        value = item.get(name)
        if value is None:
            continue
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            raise where.fail(name, "is not a list of recipients", expected="objects with emailAddress")
        yield from value


def _graph_time(value: object, where: Where, field: str) -> dt.datetime:
    """A Graph ``dateTimeTimeZone`` ({dateTime, timeZone}) as an aware datetime."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise where.fail(field, "is missing", expected="an object with dateTime and timeZone")
    try:
        naive = dt.datetime.fromisoformat(str(value["dateTime"]))
    except ValueError:
        raise where.fail(f"{field}.dateTime", "is not a time", expected="an ISO 8601 time") from None
    plausible(naive, where, f"{field}.dateTime")
    zone_name = value.get("timeZone", "UTC")
    if zone_name in ("UTC", "tzone://Microsoft/Utc"):
        return naive.replace(tzinfo=dt.UTC)
    try:
        return naive.replace(tzinfo=ZoneInfo(str(zone_name)))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise where.fail(
            f"{field}.timeZone",
            "is not a time zone teamlens knows",
            expected='"UTC" (teamlens asks Graph for UTC) or an IANA zone',
        ) from None


class MetadataCounter:
    """Count one mailbox's events and sent messages into a :class:`DailyTally`.

    With an enabled ``activity`` (and the ``pseudonymise`` of the read), what is counted is also
    recorded in that timeline for the metrics that combine sources.
    """

    def __init__(
        self,
        tally: DailyTally,
        clock: Clock,
        excluded: AddressExclusions,
        messages: SeenMessages,
        activity: Activity | None = None,
        pseudonymise: Callable[[str], str] | None = None,
    ) -> None:
        self.tally, self.clock, self.excluded, self.messages = tally, clock, excluded, messages
        self.timeline: tuple[Activity, Callable[[str], str]] | None = None
        if activity is not None and activity.enabled and pseudonymise is not None:
            self.timeline = (activity, pseudonymise)
        self.dropped = self.copies = 0

    def _involves_excluded(self, addresses: Iterator[str | None]) -> bool:
        return bool(self.excluded) and any(a is not None and self.excluded(a) for a in addresses)

    def event(self, person: str, event: object, where: Where) -> None:
        """Count one ``calendarView`` event of ``person``'s calendar."""
        if not isinstance(event, dict):
            raise where.fail("", "is not an event", expected="a JSON object")
        start = _graph_time(event.get("start"), where, "start")
        end = _graph_time(event.get("end"), where, "end")
        if end < start:
            raise where.fail("end", "is before start", expected="an end at or after the start")
        attendees = list(_recipients(event, ("attendees",), where))
        organizer = _address(event.get("organizer"))
        if (
            event.get("isCancelled") is True
            or event.get("isAllDay") is True
            or event.get("showAs") != "busy"
            or event.get("type") == "seriesMaster"
            or not attendees
        ):
            return
        if self._involves_excluded(iter([organizer, *(_address(a) for a in attendees)])):
            self.dropped += 1
            return
        day = self.clock.local(person, start).date()
        self.tally.add(person, day, "meetings_attended")
        self.tally.add_seconds(person, day, "meeting_minutes", int((end - start).total_seconds()))
        if end - start > _LONG:
            self.tally.add(person, day, "long_meetings")
        found = (_address(x) for x in attendees if x.get("type") != "resource")
        people = {normalise_identifier(a) for a in found if a}
        if organizer:
            people.add(normalise_identifier(organizer))
        if len(people) > _LARGE:
            self.tally.add(person, day, "large_meetings")
        recurring = event.get("type") in ("occurrence", "exception") or bool(event.get("seriesMasterId"))
        if recurring:
            self.tally.add(person, day, "recurring_meetings")
        if self.timeline is not None and self.tally.covers(day) and end > start:
            activity, pseudonymise = self.timeline
            # The other person of a two-person meeting, for 1:1 time with one's manager.
            others = {pseudonymise(address) for address in people} - {person}
            partner = next(iter(others)) if len(people) == 2 and len(others) == 1 else None
            local_start = self.clock.local(person, start).replace(tzinfo=None)
            local_end = self.clock.local(person, end).replace(tzinfo=None)
            activity.record_meeting(person, Meeting(local_start, local_end, len(people), recurring, partner))

    def message(self, person: str, message: object, where: Where) -> None:
        """Count one message of ``person``'s Sent Items (a copy of one counted already counts no more)."""
        if not isinstance(message, dict):
            raise where.fail("", "is not a message", expected="a JSON object")
        sent = parse_time(message.get("sentDateTime"), where, "sentDateTime")
        recipients = list(_recipients(message, _RECIPIENT_FIELDS, where))
        senders = list(_recipients(message, ("from",), where))
        people = [*recipients, *senders]
        if self._involves_excluded(_address(entry) for entry in people):
            self.dropped += 1
            return
        copied_to = (_address(entry) for entry in _recipients(message, _RECIPIENT_FIELDS[:2], where))
        sender = next((a for a in (_address(entry) for entry in senders) if a), "")
        if not self.messages.first_time(
            person,
            sender=normalise_identifier(sender),
            sent=sent,
            recipients=[normalise_identifier(a) for a in copied_to if a],
            message_id=str(message.get("internetMessageId") or ""),
        ):
            self.copies += 1
            return
        local = self.clock.local(person, sent)
        if self.timeline is not None and self.tally.covers(local.date()):
            self.timeline[0].record_sent(person, local, "email")
        self.tally.add(person, local.date(), "emails_sent")
        # Distinct addresses, as the mail-header connector counts them; an entry without an
        # address cannot be told apart from the others, so it is not counted.
        found = (_address(entry) for entry in recipients)
        addresses = {normalise_identifier(a) for a in found if a and a.strip()}
        self.tally.add(person, local.date(), "email_recipients", len(addresses))
        if self.clock.after_hours(person, local):
            self.tally.add(person, local.date(), "after_hours_emails")

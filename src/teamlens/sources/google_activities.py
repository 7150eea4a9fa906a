"""Google Workspace Reports API activities → person-day counts, shared by the saved and live readers.

What is counted (only the policy's metrics are ever computed):

- **gmail**, event ``delivery``: ``event_info.mail_event_type`` 1 (sent) → ``emails_sent``, and
  ``after_hours_emails`` when sent outside the sender's working hours; 2 (received) →
  ``emails_received``; 7 (opened for the first time) → ``emails_read``. Other types (spam,
  quarantine, replies, forwards) are not counted. The ``message`` parameter's nested
  parameters include the sender and recipients (``source.address``, ``destination.address``,
  ``from_header_address`` …) next to the subject and message id; of these only parameters whose
  name is ``address`` or ends in ``_address`` are looked at, to drop messages to or from the
  policy's excluded addresses and domains (R18) before anything is counted. The subject, ids and
  every other parameter are never read.
- **meet**, event ``call_ended``: ``duration_seconds`` → ``meeting_minutes`` (summed per person
  and day, then rounded half up to whole minutes); ``meetings_attended`` +1 per call, where a
  rejoin of the same ``conference_id`` on the same day is not a second meeting. Calls whose
  ``organizer_email`` is excluded are dropped.
- **chat**, event ``message_posted`` → ``chat_messages``.
- **calendar**: nothing. Calendar audit events record edits to calendars (often made by someone
  else, and carrying event titles), not meetings attended; Meet calls measure meeting time.

When the ingestion keeps a timeline for the metrics that combine sources (``activity.py``), every
gmail message sent or received and every chat message posted that is counted is also recorded
there (at its local time, for the days the tally keeps), as the mail and chat file readers do.
Meet calls are not: one participant's ``call_ended`` gives neither the meeting's head count nor
whether it recurs, which those metrics need.

Identity is ``actor.email``, pseudonymised on sight; an activity whose ``actor.callerType`` is
present and not ``USER`` (an API key, an admin tool) or that has no actor email is skipped and
counted in a note, and so is the activity of an excluded address (a representative's mailbox).
Each activity is dated on the local calendar day of ``id.time`` in the actor's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from teamlens.domain import FACT_SCHEMA, WorkingHours
from teamlens.errors import ConfigError, InputFormatError
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.exclusions import AddressExclusions

ACTIVITY_KIND = "admin#reports#activity"
PAGE_KIND = "admin#reports#activities"
#: Applications whose activities produce metrics.
COUNTED_APPLICATIONS = ("gmail", "meet", "chat")
_SENT, _RECEIVED, _OPENED = 1, 2, 7
_FIRST_YEAR, _LAST_YEAR = 1970, 2200
_LARGEST = 10**12  # far above any real count or duration, far below int64 overflow when summed


def _is_address_field(name: object) -> bool:
    return isinstance(name, str) and (name == "address" or name.endswith("_address"))


class Clock:
    """Each person's local time and working hours, from the read context (zones cached)."""

    def __init__(self, ctx: ReadContext) -> None:
        self._ctx = ctx
        self._zones: dict[str, ZoneInfo] = {}

    def hours(self, person: str) -> WorkingHours:
        """The working pattern of ``person``."""
        return self._ctx.working_hours_of(person)

    def local(self, person: str, instant: dt.datetime) -> dt.datetime:
        """``instant`` (timezone-aware) as wall-clock time where ``person`` works."""
        name = self.hours(person).timezone
        zone = self._zones.get(name)
        if zone is None:
            try:
                zone = self._zones[name] = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ConfigError(
                    "The policy's working_hours.timezone is not a known IANA time zone.",
                    "Use a name such as Europe/London in the policy.",
                ) from None
        return instant.astimezone(zone)

    def after_hours(self, person: str, local: dt.datetime) -> bool:
        """Whether local time ``local`` falls outside ``person``'s working days and hours."""
        hours = self.hours(person)
        return local.weekday() not in hours.days or not hours.start <= local.time() < hours.end


@dataclass
class DailyTally:
    """Sum counts per (person, day, metric) and emit them as ``FACT_SCHEMA`` batches.

    A file's facts must be unique per key (the store keeps one row per key), so everything read
    is summed here and emitted once at the end. ``first_day``/``end_day`` (exclusive) keep only
    days a pull covers completely; seconds are summed apart and rounded once per person-day.
    """

    source: str
    metrics: frozenset[str]
    first_day: dt.date | None = None
    end_day: dt.date | None = None
    counts: Counter[tuple[str, dt.date, str]] = field(default_factory=Counter)
    seconds: Counter[tuple[str, dt.date, str]] = field(default_factory=Counter)

    def covers(self, day: dt.date) -> bool:
        """Whether ``day`` lies in the days this tally keeps (all of them without bounds)."""
        return not ((self.first_day and day < self.first_day) or (self.end_day and day >= self.end_day))

    def wants(self, metric: str, day: dt.date) -> bool:
        """Whether a value of ``metric`` on ``day`` would be kept."""
        return metric in self.metrics and self.covers(day)

    def add(self, person: str, day: dt.date, metric: str, value: int = 1) -> None:
        """Count ``value`` for ``person`` on ``day``."""
        if self.wants(metric, day):
            self.counts[(person, day, metric)] += value

    def add_seconds(self, person: str, day: dt.date, metric: str, seconds: int) -> None:
        """Count ``seconds`` of a minutes metric for ``person`` on ``day``."""
        if self.wants(metric, day):
            self.seconds[(person, day, metric)] += seconds

    def batches(self, batch_rows: int, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """The non-zero sums as facts, ``batch_rows`` at a time, counted in ``report.facts``."""
        rows = [(key, value) for key, value in self.counts.items() if value]
        # Round half up to whole minutes, as the usage-report connector does.
        rows += [(key, (value + 30) // 60) for key, value in self.seconds.items() if (value + 30) // 60]
        rows.sort()
        for start in range(0, len(rows), batch_rows):
            chunk = rows[start : start + batch_rows]
            arrays = [
                pa.array([key[0] for key, _ in chunk], pa.string()),
                pa.array([key[1] for key, _ in chunk], pa.date32()),
                pa.array([1] * len(chunk), pa.int8()),
                pa.array([key[2] for key, _ in chunk], pa.string()),
                pa.array([value for _, value in chunk], pa.int64()),
                pa.array([self.source] * len(chunk), pa.string()),
            ]
            report.facts += len(chunk)
            yield pa.RecordBatch.from_arrays(arrays, schema=FACT_SCHEMA)


@dataclass(frozen=True)
class Where:
    """Where an activity came from, for errors: the file, its line if known, and its path in the JSON."""

    file: Path | str
    line: int | None
    at: str

    def fail(self, field: str, problem: str, expected: str | None = None) -> InputFormatError:
        """An ``InputFormatError`` at ``field`` of this activity."""
        name = ".".join(part for part in (self.at, field) if part) or "(top level)"
        return InputFormatError(
            self.file,
            problem,
            line=self.line,
            field=name,
            expected=expected,
            hint="Save the Reports API responses unchanged, or pull them again.",
        )


def parse_time(value: object, where: Where, field: str) -> dt.datetime:
    """An RFC 3339 timestamp with an offset (``2024-01-08T09:30:00.000Z``)."""
    if not isinstance(value, str):
        raise where.fail(field, "is missing", expected="an RFC 3339 time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise where.fail(
            field, "is not a time", expected="an RFC 3339 time such as 2024-01-08T09:30:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise where.fail(field, "has no time zone", expected="an RFC 3339 time ending in Z or an offset")
    return plausible(parsed, where, field)


def plausible(moment: dt.datetime, where: Where, field: str) -> dt.datetime:
    """``moment`` if it lies in years 1970–2200; near year 1 or 9999 zone arithmetic would overflow."""
    if not _FIRST_YEAR <= moment.year <= _LAST_YEAR:
        raise where.fail(field, "is out of range", expected=f"a time between {_FIRST_YEAR} and {_LAST_YEAR}")
    return moment


class _Params:
    """An event's ``parameters`` list, by name; values decoded only when asked for."""

    def __init__(self, raw: object, where: Where, field: str) -> None:
        self.where, self.field = where, field
        self.by_name: dict[str, dict[str, object]] = {}
        if raw is None:
            return
        if not isinstance(raw, list):
            raise where.fail(field, "is not a list", expected="a list of parameters")
        for index, param in enumerate(raw):
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                raise where.fail(f"{field}[{index}]", "is not a parameter", expected="an object with a name")
            self.by_name.setdefault(str(param["name"]), param)

    def nested(self, name: str) -> _Params:
        """The parameters inside parameter ``name`` (a ``messageValue``); empty when absent."""
        param = self.by_name.get(name)
        message = param.get("messageValue") if param else None
        inner = message.get("parameter") if isinstance(message, dict) else None
        return _Params(inner, self.where, f"{self.field}.{name}.messageValue.parameter")

    def integer(self, name: str) -> int | None:
        """Parameter ``name`` as a non-negative whole number (``intValue``, or a numeric ``value``)."""
        param = self.by_name.get(name)
        if param is None:
            return None
        raw = param.get("intValue", param.get("value"))
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise self.where.fail(f"{self.field}.{name}", "has no whole-number value", expected="intValue")
        try:
            value = int(raw)
        except ValueError:
            raise self.where.fail(
                f"{self.field}.{name}", "is not a whole number", expected="intValue"
            ) from None
        if value < 0:
            raise self.where.fail(f"{self.field}.{name}", "is negative", expected="a count of zero or more")
        if value > _LARGEST:
            raise self.where.fail(f"{self.field}.{name}", "is too large", expected=f"at most {_LARGEST}")
        return value

    def text(self, name: str) -> str | None:
        """Parameter ``name``'s string ``value``, if it has one."""
        param = self.by_name.get(name)
        value = param.get("value") if param else None
        return value if isinstance(value, str) else None


def _addresses(raw: object) -> Iterator[str]:
    """Every string under an address parameter anywhere in a parameter tree (iterative: no recursion)."""
    stack = [raw]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if _is_address_field(node.get("name")):
                for value in (node.get("value"), *(node.get("multiValue") or ())):
                    if isinstance(value, str):
                        yield value
            message = node.get("messageValue")
            if isinstance(message, dict):
                stack.append(message.get("parameter"))
            # multiMessageValue holds bare {"parameter": [...]} objects.
            stack.extend((node.get("multiMessageValue"), node.get("parameter")))


class ActivityReducer:
    """Fold Reports API activities into a :class:`DailyTally`, applying identity, exclusion and day rules."""

    def __init__(self, ctx: ReadContext, report: ReadReport, tally: DailyTally) -> None:
        self.ctx, self.report, self.tally = ctx, report, tally
        self.clock = Clock(ctx)
        self.excluded = AddressExclusions(ctx.exclusions)
        self.people: set[str] = set()
        self.calls: set[tuple[str, dt.date, str]] = set()
        self.skipped = Counter[str]()

    def add(self, item: object, where: Where) -> None:
        """Count one activity (a decoded JSON value), or raise ``InputFormatError`` at its faulty field."""
        if not isinstance(item, dict):
            raise where.fail("", "is not an activity", expected="a JSON object")
        if item.get("kind", ACTIVITY_KIND) != ACTIVITY_KIND:
            raise where.fail("kind", "is not an activity's kind", expected=f'"{ACTIVITY_KIND}"')
        ident = item.get("id")
        if not isinstance(ident, dict):
            raise where.fail("id", "is missing", expected="an object with time and applicationName")
        instant = parse_time(ident.get("time"), where, "id.time")
        application = ident.get("applicationName")
        if not isinstance(application, str):
            raise where.fail("id.applicationName", "is missing", expected="an application name such as gmail")
        events = item.get("events", [])
        if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
            raise where.fail("events", "is not a list of events", expected="a list of objects")
        self.report.rows_read += 1
        actor = item.get("actor")
        email = actor.get("email") if isinstance(actor, dict) else None
        caller = actor.get("callerType", "USER") if isinstance(actor, dict) else None
        if caller != "USER" or not isinstance(email, str) or not email.strip():
            self.skipped["actor"] += 1
            return
        if self.excluded(email):
            self.skipped["excluded"] += 1
            return
        person = self.ctx.pseudonymise(email)
        del email  # nothing below may touch the plain address
        if person in self.ctx.excluded_persons:
            return
        self.report.rows_kept += 1
        self.people.add(person)
        self.report.people_seen = len(self.people)
        local = self.clock.local(person, instant)
        if application not in COUNTED_APPLICATIONS:
            self.skipped["calendar" if application == "calendar" else "other"] += 1
            return
        for index, event in enumerate(events):
            field = f"events[{index}].parameters"
            params = event.get("parameters")
            if application == "gmail" and event.get("name") == "delivery":
                self._gmail(person, local, _Params(params, where, field))
            elif application == "meet" and event.get("name") == "call_ended":
                self._meet(person, local.date(), _Params(params, where, field))
            elif application == "chat" and event.get("name") == "message_posted":
                self.tally.add(person, local.date(), "chat_messages")
                self._record(person, local, "chat")

    def _gmail(self, person: str, local: dt.datetime, params: _Params) -> None:
        kind = params.nested("event_info").integer("mail_event_type")
        metric = {_SENT: "emails_sent", _RECEIVED: "emails_received", _OPENED: "emails_read"}.get(kind or 0)
        if metric is None:
            return
        message = params.by_name.get("message")
        if self.excluded and message is not None and any(self.excluded(a) for a in _addresses(message)):
            self.skipped["message"] += 1
            return
        self.tally.add(person, local.date(), metric)
        if kind in (_SENT, _RECEIVED):
            self._record(person, local, "email" if kind == _SENT else "received")
        if kind == _SENT and self.clock.after_hours(person, local):
            self.tally.add(person, local.date(), "after_hours_emails")

    def _record(self, person: str, local: dt.datetime, kind: str) -> None:
        """Put a message sent ("email", "chat") or received ("received") in the ingestion's timeline."""
        activity = self.ctx.activity
        if not activity.enabled or not self.tally.covers(local.date()):
            return
        if kind == "received":
            activity.record_received(person, local.date())
        else:
            activity.record_sent(person, local, kind)

    def _meet(self, person: str, day: dt.date, params: _Params) -> None:
        organizer = params.text("organizer_email")
        if organizer and self.excluded(organizer):
            self.skipped["message"] += 1
            return
        seconds = params.integer("duration_seconds") or 0
        self.tally.add_seconds(person, day, "meeting_minutes", seconds)
        conference = params.text("conference_id") or params.text("meeting_code")
        if conference is not None:
            if (person, day, conference) in self.calls:
                return
            self.calls.add((person, day, conference))
        self.tally.add(person, day, "meetings_attended")

    def finish(self) -> None:
        """Write what was skipped, as counts, to the report's notes."""
        notes = {
            "actor": "activities without a user actor (actor.callerType other than USER, or no "
            "actor.email) were skipped",
            "excluded": "activities of excluded addresses (policy exclusions) were skipped",
            "message": "messages and calls involving excluded addresses or domains were not counted",
            "calendar": "calendar activities were read but not counted: calendar audit events record "
            "edits, not meetings attended (Meet calls give meeting time)",
            "other": "activities of applications other than gmail, meet, chat and calendar were not counted",
        }
        for key, text in notes.items():
            if self.skipped[key]:
                self.report.note(f"{self.skipped[key]} {text}")

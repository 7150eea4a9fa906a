"""Connectors for Microsoft 365 usage reports (Graph ``get…UserDetail`` CSV exports).

Each row is one person's counts over the report period ending on ``Report Refresh Date``. A
daily report (``Report Period`` 1) becomes daily facts; a weekly one (7) whose refresh date is a
Sunday becomes one fact per ISO week, dated on its Monday. Longer periods cannot be split into
the fixed windows releases use and are refused. ``User Principal Name`` is pseudonymised as it
is read; names, ids, licences and dates of last activity are never read. Zero counts are not
emitted: facts are summed, and a missing fact already counts as zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import FACT_SCHEMA
from teamlens.sources.columns import counts, dates, first_true, required_text
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.csv_table import CsvBatch, CsvLayout, CsvTable, normalise_header, sniff_header

REFRESH = "Report Refresh Date"
UPN = "User Principal Name"
PERIOD = "Report Period"
SUNDAY = 6  # Arrow's day_of_week counts Monday as 0

#: Microsoft's concealed user names are 32 hexadecimal digits (MC275344).
_CONCEALED = r"^[0-9A-Fa-f]{32}$"
CONCEALED_NOTE = (
    "this report has concealed user names: they cannot be joined to the HR directory, so its "
    "facts feed only organisation-wide releases; team-level figures need a source whose "
    "identities match the directory, such as the mail and calendar metadata connectors"
)
_PERIOD_HINT = (
    "Export weekly reports ending on a Sunday, or daily reports (Graph `date=YYYY-MM-DD` "
    "parameter, available for the past 30 days)."
)

EMAIL_HEADER = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Last Activity Date,"
    "Send Count,Receive Count,Read Count,Meeting Created Count,Meeting Interacted Count,"
    "Assigned Products,Report Period"
)
TEAMS_HEADER = (
    "Report Refresh Date,Tenant Display Name,Shared Channel Tenant Display Names,User Id,"
    "User Principal Name,Last Activity Date,Is Deleted,Deleted Date,Assigned Products,"
    "Team Chat Message Count,Private Chat Message Count,Call Count,Meeting Count,Post Messages,"
    "Reply Messages,Urgent Messages,Meetings Organized Count,Meetings Attended Count,"
    "Ad Hoc Meetings Organized Count,Ad Hoc Meetings Attended Count,"
    "Scheduled One-time Meetings Organized Count,Scheduled One-time Meetings Attended Count,"
    "Scheduled Recurring Meetings Organized Count,Scheduled Recurring Meetings Attended Count,"
    "Audio Duration,Video Duration,Screen Share Duration,Audio Duration In Seconds,"
    "Video Duration In Seconds,Screen Share Duration In Seconds,Has Other Action,Is Licensed,"
    "Report Period"
)


@dataclass(frozen=True)
class MetricRule:
    """How one metric comes from a report: the sum of ``columns``, optionally seconds → minutes."""

    metric: str
    columns: tuple[str, ...]
    seconds_to_minutes: bool = False

    def values(self, batch: CsvBatch) -> pa.Array:
        """This metric's value on every row of ``batch`` (int64, never negative)."""
        total = counts(batch, self.columns[0])
        for column in self.columns[1:]:
            try:
                total = pc.add_checked(total, counts(batch, column))
            except pa.ArrowInvalid:
                raise batch.fail(None, column, "the counts are too large to add",
                                 expected="counts below 10^18") from None
        if self.seconds_to_minutes:
            # Round half up to whole minutes; values are non-negative, so integer division floors.
            total = pc.divide(pc.add(total, 30), 60)
        return total


@dataclass(frozen=True)
class UsageReportReader:
    """Read one Microsoft 365 usage report into facts (a ``SourceReader``)."""

    name: str
    description: str
    api: str
    header: str
    rules: tuple[MetricRule, ...]
    signature: tuple[str, ...]

    def sniff(self, path: Path) -> bool:
        """True when the first line of ``path`` carries this report's distinctive columns."""
        names = sniff_header(path)
        return names is not None and {normalise_header(column) for column in self.signature} <= names

    def layout(self, rules: tuple[MetricRule, ...]) -> CsvLayout:
        """The columns to read for ``rules``; every other documented column is never read."""
        required = (REFRESH, UPN, PERIOD, *(column for rule in rules for column in rule.columns))
        return CsvLayout(
            describe=f"the header of {self.api}",
            documented=self.header,
            required=tuple(dict.fromkeys(required)),
            ignored=tuple(column for column in self.header.split(",") if column not in required),
            hint=f"Export {self.api} again as CSV, without removing or renaming columns.",
        )

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the policy's metrics from ``path`` as facts, one batch per block of rows."""
        rules = tuple(rule for rule in self.rules if rule.metric in ctx.metrics)
        table = CsvTable(path, self.layout(rules), report)
        if not rules:
            report.note(f"the policy allows none of the metrics of {self.api}; nothing was kept")
        excluded = pa.array(sorted(ctx.excluded_persons), pa.string())
        seen: set[str] = set()
        for batch in table.batches(ctx.batch_rows):
            report.rows_read += batch.num_rows
            day, days = _periods(batch)
            names = required_text(batch, UPN, "a user principal name")
            if not report.concealed and pc.any(pc.match_substring_regex(names, _CONCEALED)).as_py():
                report.concealed = True
                report.note(CONCEALED_NOTE)
            pseudonyms = [ctx.pseudonymise(name) for name in names.to_pylist()]
            del names  # nothing below may touch a plain identifier
            person = pa.array(pseudonyms, pa.string())
            keep = pc.invert(pc.is_in(person, value_set=excluded))
            if ctx.excluded_persons:
                pseudonyms = [who for who in pseudonyms if who not in ctx.excluded_persons]
            report.rows_kept += len(pseudonyms)
            seen.update(pseudonyms)
            report.people_seen = len(seen)
            facts = self._facts(batch, rules, keep, person, day, days)
            if facts.num_rows:
                report.facts += facts.num_rows
                yield facts

    def _facts(self, batch: CsvBatch, rules: tuple[MetricRule, ...], keep: pa.Array, person: pa.Array,
               day: pa.Array, days: pa.Array) -> pa.RecordBatch:
        parts: dict[str, list[pa.Array]] = {field.name: [] for field in FACT_SCHEMA}
        for rule in rules:
            values = rule.values(batch)
            mask = pc.and_(keep, pc.not_equal(values, 0))
            size = pc.sum(mask).as_py() or 0
            parts["person"].append(person.filter(mask))
            parts["day"].append(day.filter(mask))
            parts["days"].append(days.filter(mask))
            parts["metric"].append(_constant(rule.metric, size))
            parts["value"].append(values.filter(mask))
            parts["source"].append(_constant(self.name, size))
        arrays = [
            pa.concat_arrays(parts[field.name]) if parts[field.name] else pa.array([], field.type)
            for field in FACT_SCHEMA
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=FACT_SCHEMA)


def _constant(value: str, size: int) -> pa.Array:
    return pa.nulls(size, pa.string()).fill_null(value)


def _periods(batch: CsvBatch) -> tuple[pa.Array, pa.Array]:
    """Each row's first day and length in days, refusing periods that are not a day or an ISO week."""
    refresh = dates(batch, REFRESH)
    period = counts(batch, PERIOD)
    unsupported = pc.invert(pc.is_in(period, value_set=pa.array([1, 7], pa.int64())))
    if pc.any(unsupported).as_py():
        row = first_true(unsupported)
        raise batch.fail(
            row, PERIOD, f"a {period[row].as_py()}-day report cannot be split into days or ISO weeks",
            expected="1 (a daily report) or 7 (a weekly report ending on a Sunday)", hint=_PERIOD_HINT,
        )
    off_week = pc.and_(pc.equal(period, 7), pc.not_equal(pc.day_of_week(refresh), SUNDAY))
    if pc.any(off_week).as_py():
        raise batch.fail(first_true(off_week), REFRESH, "a 7-day report must end on a Sunday",
                         expected="a Sunday as the refresh date of a weekly report", hint=_PERIOD_HINT)
    first_day = pc.subtract(pc.cast(refresh, pa.int32()), pc.cast(pc.subtract(period, 1), pa.int32()))
    return pc.cast(first_day, pa.date32()), pc.cast(period, pa.int8())


EMAIL_ACTIVITY = UsageReportReader(
    name="m365_email_activity",
    description="Microsoft 365 email activity per user (Graph getEmailActivityUserDetail CSV, D7 or date=)",
    api="getEmailActivityUserDetail",
    header=EMAIL_HEADER,
    rules=(
        MetricRule("emails_sent", ("Send Count",)),
        MetricRule("emails_received", ("Receive Count",)),
        MetricRule("emails_read", ("Read Count",)),
        MetricRule("meetings_created", ("Meeting Created Count",)),
        MetricRule("meetings_interacted", ("Meeting Interacted Count",)),
    ),
    signature=(REFRESH, UPN, "Send Count", "Receive Count", PERIOD),
)

TEAMS_ACTIVITY = UsageReportReader(
    name="m365_teams_activity",
    description="Microsoft Teams activity per user (Graph getTeamsUserActivityUserDetail CSV, D7 or date=)",
    api="getTeamsUserActivityUserDetail",
    header=TEAMS_HEADER,
    rules=(
        MetricRule("chat_messages", ("Team Chat Message Count", "Private Chat Message Count")),
        MetricRule("calls", ("Call Count",)),
        MetricRule("meetings_attended", ("Meetings Attended Count",)),
        MetricRule("meetings_organized", ("Meetings Organized Count",)),
        MetricRule("meeting_minutes", ("Audio Duration In Seconds",), seconds_to_minutes=True),
    ),
    signature=(REFRESH, UPN, "Team Chat Message Count", "Private Chat Message Count", PERIOD),
)

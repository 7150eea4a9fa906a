"""Connectors for Microsoft 365 usage reports (Graph ``get…UserDetail`` CSV exports).

Each row is one person's counts over the report period ending on ``Report Refresh Date``. A
daily report (``Report Period`` 1) becomes daily facts; a weekly one (7) whose refresh date is a
Sunday becomes one fact per ISO week, dated on its Monday. Other periods (D30, D90, D180, or a
D7 that does not end on a Sunday) cannot be split exactly into the fixed windows releases use:
a reader built with ``ReportPeriod(spread=True)`` spreads each count evenly over the days of its
period as daily facts, saying so in a note, and one built with the default ``ReportPeriod()``
refuses them. ``User Principal Name`` is pseudonymised as it is read; names, ids, licences and
dates of last activity are never read. Zero counts are not emitted: facts are summed, and a
missing fact already counts as zero.

Only the columns of the metrics the policy allows are required: an older Teams export without
the meeting-type columns (``Ad Hoc …``, ``Scheduled One-time …``, ``Scheduled Recurring …``) or
the video and screen-share seconds still reads under a policy that does not ask for those
metrics, and is refused, naming the missing columns, under one that does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import FACT_SCHEMA
from teamlens.domain.vendor_formats import EMAIL_HEADER, TEAMS_HEADER
from teamlens.sources.columns import counts, dates, first_true, required_text
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.csv_table import (
    CsvBatch,
    CsvLayout,
    CsvTable,
    missing_columns,
    needs_columns,
    normalise_header,
    sniff_header,
)
from teamlens.sources.pseudonym_column import PseudonymColumn

REFRESH = "Report Refresh Date"
UPN = "User Principal Name"
PERIOD = "Report Period"
SUNDAY = 6  # Arrow's day_of_week counts Monday as 0
#: The longest period spread over days: a year, well above Graph's longest (D180).
MAX_SPREAD_DAYS = 366

#: Microsoft's concealed user names are 32 hexadecimal digits (MC275344).
CONCEALED_PATTERN = r"^[0-9A-Fa-f]{32}$"
_CONCEALED = CONCEALED_PATTERN
CONCEALED_NOTE = (
    "this report has concealed user names: they cannot be joined to the HR directory, so its "
    "facts feed only organisation-wide releases; team-level figures need a source whose "
    "identities match the directory, such as the mail and calendar metadata connectors"
)
_PERIOD_HINT = (
    "Export weekly reports ending on a Sunday, or daily reports (Graph `date=YYYY-MM-DD` "
    "parameter, available for the past 30 days)."
)
SPREAD_NOTE = (
    "counts from reports whose period is not one day or one ISO week ending on a Sunday were "
    "spread evenly over the days of their period, so daily and weekly figures from them are "
    "approximate; export weekly reports ending on a Sunday (or daily reports) for exact windows"
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
                raise batch.fail(
                    None, column, "the counts are too large to add", expected="counts below 10^18"
                ) from None
        if self.seconds_to_minutes:
            # Round half up to whole minutes; values are non-negative, so integer division floors.
            total = pc.divide(pc.add(total, 30), 60)
        return total


class PeriodRule(Protocol):
    """How a report's rows map to periods: each row's first day and its length in days.

    A period of one day, or of seven days starting on a Monday, becomes one fact; any other is
    spread evenly over its days as daily facts (so a rule refuses the periods it cannot vouch for).
    """

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the rule reads besides the refresh date."""
        ...

    def __call__(self, batch: CsvBatch, report: ReadReport) -> tuple[pa.Array, pa.Array]:
        """Each row's first day (date32) and length in days (int64, 1 to ``MAX_SPREAD_DAYS``)."""
        ...


@dataclass(frozen=True)
class ReportPeriod:
    """The ``Report Period`` column: refuse periods that are not a day or an ISO week, or spread them."""

    spread: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Only ``Report Period``."""
        return (PERIOD,)

    def __call__(self, batch: CsvBatch, report: ReadReport) -> tuple[pa.Array, pa.Array]:
        """Each row's first day and length, refusing (or noting) periods releases cannot use exactly."""
        if not self.spread:
            first, length = _periods(batch)
            return first, pc.cast(length, pa.int64())
        refresh = dates(batch, REFRESH)
        period = counts(batch, PERIOD)
        out_of_range = pc.or_(pc.less(period, 1), pc.greater(period, MAX_SPREAD_DAYS))
        if pc.any(out_of_range).as_py():
            raise batch.fail(
                first_true(out_of_range),
                PERIOD,
                "the report period is out of range",
                expected=f"a number of days from 1 to {MAX_SPREAD_DAYS}",
                hint=_PERIOD_HINT,
            )
        first_day = pc.cast(
            pc.subtract(pc.cast(refresh, pa.int32()), pc.cast(pc.subtract(period, 1), pa.int32())),
            pa.date32(),
        )
        if not pc.all(_native(first_day, period)).as_py():
            report.note(SPREAD_NOTE)
        return first_day, period


@dataclass(frozen=True)
class UsageReportReader:
    """Read one Microsoft 365 usage report into facts (a ``SourceReader``).

    ``period`` maps rows to periods (by default refusing what is not a day or an ISO week);
    ``absent`` lists columns whose presence means the file is another report with a larger
    header (SharePoint's carries all of OneDrive's columns), so ``sniff`` tells them apart.
    """

    name: str
    description: str
    api: str
    header: str
    rules: tuple[MetricRule, ...]
    signature: tuple[str, ...]
    period: PeriodRule = ReportPeriod()
    absent: tuple[str, ...] = ()

    def sniff(self, path: Path) -> bool:
        """True when the first line of ``path`` carries this report's distinctive columns."""
        names = sniff_header(path)
        return (
            names is not None
            and {normalise_header(column) for column in self.signature} <= names
            and not {normalise_header(column) for column in self.absent} & names
        )

    def lacks(self, path: Path) -> str:
        """What ``path`` would need to be read by this connector (for the error when none can)."""
        missing = missing_columns(path, self.signature)
        present = [column for column in self.absent if column not in missing_columns(path, (column,))]
        if not missing and present:
            return f"is another report: it has the column {present[0]}, which {self.api} has not"
        return needs_columns(missing)

    def layout(self, rules: tuple[MetricRule, ...], header: frozenset[str] | None = None) -> CsvLayout:
        """The columns to read for ``rules``; every other documented column is never read.

        Only the columns of ``rules`` (the policy's metrics) are required, so an export made before
        Microsoft added a column still reads under a policy that does not need it. Given the
        file's normalised ``header``, the hint names the policy's metrics whose columns it lacks.
        """
        metric_columns = (column for rule in rules for column in rule.columns)
        required = (REFRESH, UPN, *self.period.columns, *metric_columns)
        hint = f"Export {self.api} again as CSV, without removing or renaming columns."
        lacking = [
            rule.metric
            for rule in rules
            if header is not None and any(normalise_header(column) not in header for column in rule.columns)
        ]
        if lacking:
            plural = "s" if len(lacking) > 1 else ""
            hint += (
                f" This file lacks the columns of the policy's metric{plural} {', '.join(lacking)}, "
                "as an export made before Microsoft added them does: export the report again, "
                f"or read this file under a policy without {'those metrics' if plural else 'that metric'}."
            )
        return CsvLayout(
            describe=f"the header of {self.api}",
            documented=self.header,
            required=tuple(dict.fromkeys(required)),
            ignored=tuple(column for column in self.header.split(",") if column not in required),
            hint=hint,
        )

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the policy's metrics from ``path`` as facts, one batch per block of rows."""
        rules = tuple(rule for rule in self.rules if rule.metric in ctx.metrics)
        table = CsvTable(path, self.layout(rules, sniff_header(path)), report)
        if not rules:
            report.note(f"the policy allows none of the metrics of {self.api}; nothing was kept")
        excluded = pa.array(sorted(ctx.excluded_persons), pa.string())
        pseudonyms = PseudonymColumn(ctx.pseudonymise)
        for batch in table.batches(ctx.batch_rows):
            report.rows_read += batch.num_rows
            day, days = self.period(batch, report)
            names = required_text(batch, UPN, "a user principal name")
            if not report.concealed and pc.any(pc.match_substring_regex(names, _CONCEALED)).as_py():
                report.concealed = True
                report.note(CONCEALED_NOTE)
            person = pseudonyms.encoded(names)
            del names  # nothing below may touch a plain identifier
            keep = pc.invert(pc.is_in(person, value_set=excluded))
            report.rows_kept += int(pc.sum(keep).as_py() or 0)
            # Intersecting walks the smaller set: the few objectors, not everyone seen.
            report.people_seen = len(pseudonyms.seen) - len(ctx.excluded_persons & pseudonyms.seen)
            facts = self._facts(batch, rules, keep, person, day, days)
            if facts.num_rows:
                report.facts += facts.num_rows
                yield facts

    def _facts(
        self,
        batch: CsvBatch,
        rules: tuple[MetricRule, ...],
        keep: pa.Array,
        person: pa.Array,
        day: pa.Array,
        days: pa.Array,
    ) -> pa.RecordBatch:
        parts: dict[str, list[pa.Array]] = {field.name: [] for field in FACT_SCHEMA}
        native = _native(day, days)
        spread = pc.invert(native)
        any_spread = pc.any(spread).as_py()
        if any_spread:
            person = person.cast(pa.string())  # spread facts are built as plain strings
        for rule in rules:
            values = rule.values(batch)
            nonzero = pc.and_(keep, pc.not_equal(values, 0))
            mask = pc.and_(nonzero, native)
            size = pc.sum(mask).as_py() or 0
            parts["person"].append(person.filter(mask))
            parts["day"].append(day.filter(mask))
            parts["days"].append(pc.cast(days.filter(mask), pa.int8()))
            parts["metric"].append(_constant(rule.metric, size))
            parts["value"].append(values.filter(mask))
            parts["source"].append(_constant(self.name, size))
            if any_spread:
                chosen = pc.and_(nonzero, spread)
                who, first, value = _spread(
                    person.filter(chosen), day.filter(chosen), days.filter(chosen), values.filter(chosen)
                )
                parts["person"].append(who)
                parts["day"].append(first)
                parts["days"].append(pa.nulls(len(who), pa.int8()).fill_null(1))
                parts["metric"].append(_constant(rule.metric, len(who)))
                parts["value"].append(value)
                parts["source"].append(_constant(self.name, len(who)))
        if not rules:
            return pa.RecordBatch.from_pylist([], FACT_SCHEMA)
        # The person column stays dictionary-encoded (``PseudonymColumn.encoded``): FACT_SCHEMA's
        # strings, without copying a 64-digit pseudonym per fact.
        fields = [field.with_type(parts[field.name][0].type) for field in FACT_SCHEMA]
        return pa.RecordBatch.from_arrays(
            [pa.concat_arrays(parts[field.name]) for field in FACT_SCHEMA], schema=pa.schema(fields)
        )


def _constant(value: str, size: int) -> pa.Array:
    return pa.nulls(size, pa.string()).fill_null(value)


def _native(day: pa.Array, days: pa.Array) -> pa.Array:
    """True where a period is one fact: a single day, or seven days starting on a Monday."""
    weekly = pc.and_(pc.equal(days, 7), pc.equal(pc.day_of_week(day), 0))
    return pc.or_(pc.equal(days, 1), weekly)


def _spread(
    person: pa.Array, day: pa.Array, days: pa.Array, values: pa.Array
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Daily facts sharing each value over its period, in whole units that add up to the value.

    Day ``i`` of ``n`` gets ``floor((i+1)·v/n) − floor(i·v/n)``: every day gets the quotient or one
    more, the extra units spaced evenly through the period — a largest-remainder apportionment
    whose ties (all remainders are equal) are broken by spacing rather than bunching at the start.
    """
    people: list[str] = []
    firsts: list[int] = []
    shares: list[int] = []
    for who, first, n, value in zip(
        person.to_pylist(),
        pc.cast(day, pa.int32()).to_pylist(),
        days.to_pylist(),
        values.to_pylist(),
        strict=True,
    ):
        base, extra = divmod(value, n)
        for i in range(n):
            share = base + (i + 1) * extra // n - i * extra // n
            if share:
                people.append(who)
                firsts.append(first + i)
                shares.append(share)
    return (
        pa.array(people, pa.string()),
        pa.array(firsts, pa.int32()).cast(pa.date32()),
        pa.array(shares, pa.int64()),
    )


def _periods(batch: CsvBatch) -> tuple[pa.Array, pa.Array]:
    """Each row's first day and length in days, refusing periods that are not a day or an ISO week."""
    refresh = dates(batch, REFRESH)
    period = counts(batch, PERIOD)
    unsupported = pc.invert(pc.is_in(period, value_set=pa.array([1, 7], pa.int64())))
    if pc.any(unsupported).as_py():
        row = first_true(unsupported)
        raise batch.fail(
            row,
            PERIOD,
            f"a {period[row].as_py()}-day report cannot be split into days or ISO weeks",
            expected="1 (a daily report) or 7 (a weekly report ending on a Sunday)",
            hint=_PERIOD_HINT,
        )
    off_week = pc.and_(pc.equal(period, 7), pc.not_equal(pc.day_of_week(refresh), SUNDAY))
    if pc.any(off_week).as_py():
        raise batch.fail(
            first_true(off_week),
            REFRESH,
            "a 7-day report must end on a Sunday",
            expected="a Sunday as the refresh date of a weekly report",
            hint=_PERIOD_HINT,
        )
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
        MetricRule("video_minutes", ("Video Duration In Seconds",), seconds_to_minutes=True),
        MetricRule("screen_share_minutes", ("Screen Share Duration In Seconds",), seconds_to_minutes=True),
        # Meetings by type; "Meetings … Count" may exceed their sum (unclassified meetings).
        MetricRule("adhoc_meetings_organized", ("Ad Hoc Meetings Organized Count",)),
        MetricRule("adhoc_meetings_attended", ("Ad Hoc Meetings Attended Count",)),
        MetricRule("one_time_meetings_organized", ("Scheduled One-time Meetings Organized Count",)),
        MetricRule("one_time_meetings_attended", ("Scheduled One-time Meetings Attended Count",)),
        MetricRule("recurring_meetings_organized", ("Scheduled Recurring Meetings Organized Count",)),
        MetricRule("recurring_meetings", ("Scheduled Recurring Meetings Attended Count",)),
    ),
    signature=(REFRESH, UPN, "Team Chat Message Count", "Private Chat Message Count", PERIOD),
)

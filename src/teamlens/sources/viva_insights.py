"""Connectors for the Viva Insights person query CSV: weekly metrics, and the HR attributes in it.

A person query has one row per person and week: ``PersonId`` (a Microsoft-side pseudonym),
``MetricDate`` (the week's first day, a Sunday in Viva, written ``M/D/YYYY`` by Viva and
``YYYY-MM-DD`` by pandas), one column per metric and the HR attributes the analyst added
(``Organization``, ``LevelDesignation``, …). Columns are matched by name; the metric columns
teamlens has no metric for are never read. An analyst picks the metrics of a query, so a
column the policy's metrics would need may be absent: that metric is not counted from the
file, and a note names it and the columns it is read from.

**Weeks.** Viva's week runs Sunday to Saturday; releases use ISO weeks (Monday to Sunday). A Viva
week shares six days with the ISO week starting the next day, so each row becomes one weekly fact
dated on that Monday: the Sunday's activity moves into the following ISO week (weekend activity
is small, and the alternative — splitting figures that are not per day — would invent numbers).
A query whose weeks start on Monday maps directly. Every row of a file must start its week on the
same weekday, which also refuses monthly queries (their dates are firsts of months).

**Values.** Hours become whole minutes and counts whole numbers, rounded half up (Viva writes
averages and fractions). An empty cell counts as zero; zeros are not emitted. Email and chat
time come from ``Email_hours`` and ``Chat_hours`` (``Instant_message_hours`` in Workplace
Analytics queries); ``network_size`` is ``Internal_network_size``, a count of people per week,
which releases show as a weekly average like every metric.

**Identity.** ``PersonId`` cannot be joined to the HR directory or to an address, so it is
pseudonymised as ``viva:<PersonId>``: these facts can be grouped only by the HR attributes in
the same query, which :data:`VIVA_DIRECTORY` reads (``Organization`` as department and team);
one ingestion of the file reads both, the directory first (``facts_source``).
Objectors are known by address, so they cannot be matched here: they must be left out of the
query in Viva Insights. A note on every read says both.
"""

from __future__ import annotations

import datetime as dt
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import DIRECTORY_READ_SCHEMA, FACT_SCHEMA
from teamlens.errors import InputFormatError
from teamlens.sources.columns import first_true, required_text, text
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

PERSON_ID = "PersonId"
METRIC_DATE = "MetricDate"
ORGANIZATION = "Organization"
#: Pseudonymised as ``viva:<PersonId>``, so a Viva id can never collide with an address.
ID_PREFIX = "viva:"
IDENTITY_NOTE = (
    "Viva Insights PersonIds cannot be joined to the HR directory: these facts can be grouped "
    "only by the HR attributes of the same query (read them with the viva_insights_directory "
    "connector), and objectors, known by address, cannot be matched here — leave them out of the "
    "person query in Viva Insights"
)
_MAX_VALUE = 1e12  # far above any weekly figure; keeps minutes well inside int64
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_DATE_EXPECTED = "a week's first day as M/D/YYYY or YYYY-MM-DD"
_HINT = "Export the person query again as CSV with weekly metrics, without renaming PersonId or MetricDate."


@dataclass(frozen=True)
class VivaMetric:
    """One metric from the first of ``columns`` present in the file, hours → minutes if ``hours``."""

    metric: str
    columns: tuple[str, ...]
    hours: bool = False


#: Viva's names for meeting and chat time differ by query template and product version
#: (Workplace Analytics wrote ``Instant_Message_hours``); the first present column is read.
VIVA_METRICS = (
    VivaMetric("collaboration_minutes", ("Collaboration_hours",), hours=True),
    VivaMetric("meeting_minutes", ("Meeting_and_call_hours", "Meeting_hours"), hours=True),
    VivaMetric("after_hours_minutes", ("After_hours_collaboration_hours",), hours=True),
    VivaMetric("email_minutes", ("Email_hours",), hours=True),
    VivaMetric("chat_minutes", ("Chat_hours", "Instant_message_hours"), hours=True),
    VivaMetric("meetings_attended", ("Meetings",)),
    VivaMetric("emails_sent", ("Emails_sent",)),
    VivaMetric("emails_read", ("Emails_read",)),
    VivaMetric("calls", ("Calls",)),
    VivaMetric("chat_messages", ("Chats_sent",)),
    # A weekly figure of distinct people: each row is one ISO week, so it is never summed
    # across weeks within a fact; releases divide window totals by weeks, giving its average.
    VivaMetric("network_size", ("Internal_network_size",)),
)


def _lacking_note(lacking: list[VivaMetric]) -> str:
    """The note for policy metrics the query has no column for (named by metric and column only)."""
    listed = "; ".join(f"{rule.metric} ({' or '.join(rule.columns)})" for rule in lacking)
    return (
        f"the person query has no column for {listed}: these metrics were not counted from it; "
        "add the metric to the person query in Viva Insights to count it"
    )


def _layout(path: Path, required: tuple[str, ...], optional: tuple[str, ...]) -> CsvLayout:
    # A person query carries dozens of metric and attribute columns teamlens has no use for:
    # list them as known-and-ignored so the report is not flooded; the note counts them instead.
    header = sniff_header(path) or frozenset()
    wanted = {normalise_header(name) for name in (*required, *optional)}
    return CsvLayout(
        describe="the header of a Viva Insights person query",
        documented="PersonId,MetricDate, then metric columns (Collaboration_hours, Meetings, …) "
        "and HR attribute columns (Organization, …)",
        required=required,
        optional=optional,
        ignored=tuple(sorted(header - wanted)),
        hint=_HINT,
    )


class _Weeks:
    """Map ``MetricDate`` cells to ISO-week Mondays, checking every row starts its week alike."""

    def __init__(self) -> None:
        self._cache: dict[str, int | None] = {}
        self.weekday: int | None = None

    def mondays(self, batch: CsvBatch) -> pa.Array:
        """The Monday (date32) of the ISO week each row's Viva week maps to."""
        days: list[int] = []
        for row, cell in enumerate(text(batch, METRIC_DATE).to_pylist()):
            if cell not in self._cache:
                self._cache[cell] = _parse_date(cell)
            ordinal = self._cache[cell]
            if ordinal is None:
                raise batch.fail(row, METRIC_DATE, "this is not a date", expected=_DATE_EXPECTED, hint=_HINT)
            weekday = (ordinal + 3) % 7  # day 0 of date32 (1970-01-01) was a Thursday; Monday = 0
            if self.weekday is None:
                if weekday not in (0, 6):
                    raise batch.fail(
                        row,
                        METRIC_DATE,
                        "this date does not start a week",
                        expected="a Sunday (Viva's week start) or a Monday",
                        hint=_HINT,
                    )
                self.weekday = weekday
            elif weekday != self.weekday:
                raise batch.fail(
                    row,
                    METRIC_DATE,
                    "the weeks of this file start on different weekdays",
                    expected="every MetricDate on the same weekday, as in a weekly query",
                    hint=_HINT,
                )
            days.append(ordinal + (1 if weekday == 6 else 0))
        return pa.array(days, pa.int32()).cast(pa.date32())


def _parse_date(cell: str) -> int | None:
    """Days since 1970-01-01 of an ISO or US-style date, or None when it is neither."""
    iso, us = _ISO.fullmatch(cell), _US.fullmatch(cell)
    try:
        if iso:
            day = dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        elif us:
            day = dt.date(int(us.group(3)), int(us.group(1)), int(us.group(2)))
        else:
            return None
    except ValueError:
        return None
    return (day - dt.date(1970, 1, 1)).days


def _numbers(batch: CsvBatch, column: str, hours: bool) -> pa.Array:
    """Column ``column`` as int64 whole minutes (``hours``) or whole counts, rounded half up."""
    raw = text(batch, column)
    filled = pc.if_else(pc.equal(raw, ""), "0", raw)
    try:
        values = pc.cast(filled, pa.float64())
    except pa.ArrowInvalid:
        values = pa.array([_float_or_nan(cell) for cell in filled.to_pylist()], pa.float64())
    good = pc.and_(pc.is_finite(values), pc.and_(pc.greater_equal(values, 0), pc.less(values, _MAX_VALUE)))
    bad = pc.invert(pc.fill_null(good, False))
    if pc.any(bad).as_py():
        kind = "hours" if hours else "a count"
        raise batch.fail(
            first_true(bad), column, f"this is not {kind}", expected="a non-negative number such as 12.5"
        )
    scaled = pc.multiply(values, 60.0) if hours else values
    return pc.cast(pc.floor(pc.add(scaled, 0.5)), pa.int64())


def _float_or_nan(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return float("nan")


def _people(batch: CsvBatch, ctx: ReadContext) -> pa.Array:
    ids = required_text(batch, PERSON_ID, "a PersonId")
    return pa.array([ctx.pseudonymise(ID_PREFIX + cell) for cell in ids.to_pylist()], pa.string())


def _sniff(path: Path) -> bool:
    names = sniff_header(path)
    return names is not None and {normalise_header(PERSON_ID), normalise_header(METRIC_DATE)} <= names


@dataclass(frozen=True)
class VivaPersonQueryReader:
    """Read a Viva Insights person query CSV into weekly facts (a ``SourceReader``)."""

    name: str = "viva_insights_person_query"
    description: str = (
        "Viva Insights person query CSV (PersonId, MetricDate, metric columns), weekly; groups "
        "only by its own HR attributes (see viva_insights_directory)"
    )

    def sniff(self, path: Path) -> bool:
        """True when the first line of ``path`` has the PersonId and MetricDate columns."""
        return _sniff(path)

    def lacks(self, path: Path) -> str:
        """What ``path`` would need to be read by this connector (for the error when none can)."""
        return needs_columns(missing_columns(path, (PERSON_ID, METRIC_DATE)))

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the policy's metrics from ``path`` as weekly facts, one batch per block of rows."""
        wanted = tuple(rule for rule in VIVA_METRICS if rule.metric in ctx.metrics)
        candidates = tuple(column for rule in wanted for column in rule.columns)
        table = CsvTable(path, _layout(path, (PERSON_ID, METRIC_DATE), candidates), report)
        report.note(IDENTITY_NOTE)
        rules: list[tuple[VivaMetric, str]] = []
        for rule in wanted:
            column = next((name for name in rule.columns if table.has(name)), None)
            if column is not None:
                rules.append((rule, column))
        if not rules:
            report.note(
                "the person query has none of the columns of the metrics the policy allows; nothing was kept"
            )
        elif len(rules) < len(wanted):
            found = {rule for rule, _ in rules}
            report.note(_lacking_note([rule for rule in wanted if rule not in found]))
        weeks = _Weeks()
        excluded = pa.array(sorted(ctx.excluded_persons), pa.string())
        seen: set[str] = set()
        for batch in table.batches(ctx.batch_rows):
            report.rows_read += batch.num_rows
            monday = weeks.mondays(batch)
            person = _people(batch, ctx)
            keep = pc.invert(pc.is_in(person, value_set=excluded))
            kept = person.filter(keep)
            report.rows_kept += len(kept)
            seen.update(kept.to_pylist())
            report.people_seen = len(seen)
            pieces = []
            for rule, column in rules:
                values = _numbers(batch, column, rule.hours)
                mask = pc.and_(keep, pc.not_equal(values, 0))
                size = pc.sum(mask).as_py() or 0
                pieces.append(
                    pa.RecordBatch.from_arrays(
                        [
                            person.filter(mask),
                            monday.filter(mask),
                            pa.nulls(size, pa.int8()).fill_null(7),
                            pa.nulls(size, pa.string()).fill_null(rule.metric),
                            values.filter(mask),
                            pa.nulls(size, pa.string()).fill_null(self.name),
                        ],
                        schema=FACT_SCHEMA,
                    )
                )
            facts = pa.Table.from_batches(pieces, schema=FACT_SCHEMA).combine_chunks().to_batches()
            for piece in facts:
                if piece.num_rows:
                    report.facts += piece.num_rows
                    yield piece


@dataclass(frozen=True)
class VivaDirectoryReader:
    """Read the ``Organization`` attribute of a person query into directory rows (a ``DirectoryReader``).

    Each person's weeks are grouped into runs of the same organisation: a run is valid from the
    ISO-week Monday of its first week to the Monday after its last. ``Organization`` fills both
    ``department`` and ``team``; other attributes (``LevelDesignation``, …) are not read. The
    whole file is read before the first row is yielded, keeping four integers per data row.
    """

    name: str = "viva_insights_directory"
    #: The same file's metrics: an ingestion reads them with this connector right after the
    #: directory, when the policy lists it among its sources.
    facts_source: str = "viva_insights_person_query"
    description: str = (
        "Viva Insights person query CSV as a directory: Organization → department and team, valid "
        "over the weeks each person has that Organization"
    )

    def sniff(self, path: Path) -> bool:
        """True when the first line of ``path`` has the PersonId, MetricDate and Organization columns."""
        names = sniff_header(path)
        return _sniff(path) and names is not None and normalise_header(ORGANIZATION) in names

    def lacks(self, path: Path) -> str:
        """What ``path`` would need to be read by this connector (for the error when none can)."""
        return needs_columns(missing_columns(path, (PERSON_ID, METRIC_DATE, ORGANIZATION)))

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield one directory row per run of weeks with the same Organization for each person."""
        table = CsvTable(path, _layout(path, (PERSON_ID, METRIC_DATE, ORGANIZATION), ()), report)
        report.note(IDENTITY_NOTE)
        weeks = _Weeks()
        people: dict[str, int] = {}
        groups: dict[str, int] = {"": 0}
        person_of, week_of, group_of, row_of = array("q"), array("q"), array("q"), array("q")
        for batch in table.batches(ctx.batch_rows):
            report.rows_read += batch.num_rows
            monday = pc.cast(weeks.mondays(batch), pa.int32()).to_pylist()
            person = _people(batch, ctx).to_pylist()
            group = text(batch, ORGANIZATION).to_pylist()
            for row, (who, day, name) in enumerate(zip(person, monday, group, strict=True)):
                if who in ctx.excluded_persons:
                    continue
                person_of.append(people.setdefault(who, len(people)))
                week_of.append(day)
                group_of.append(groups.setdefault(name, len(groups)))
                row_of.append(batch.first_row + row)
        report.rows_kept = len(person_of)
        report.people_seen = len(people)
        yield from self._runs(table, ctx, list(people), list(groups), person_of, week_of, group_of, row_of)

    @staticmethod
    def _runs(
        table: CsvTable,
        ctx: ReadContext,
        people: list[str],
        groups: list[str],
        person_of: array[int],
        week_of: array[int],
        group_of: array[int],
        row_of: array[int],
    ) -> Iterator[pa.RecordBatch]:
        """Collapse each person's weeks into runs of one Organization; gaps inside a run are bridged."""
        runs: list[list[int]] = []  # [person, group, first Monday, Monday after the last week]
        previous = -1
        for index in sorted(range(len(person_of)), key=lambda i: (person_of[i], week_of[i])):
            who, week, group = person_of[index], week_of[index], group_of[index]
            if previous >= 0 and (person_of[previous], week_of[previous]) == (who, week):
                if group_of[previous] != group:
                    lines = table.lines_of((row_of[previous], row_of[index]))
                    raise InputFormatError(
                        table.path,
                        f"this row repeats the week of line {lines.get(row_of[previous])} "
                        "for the same PersonId with another Organization",
                        line=lines.get(row_of[index]),
                        field=ORGANIZATION,
                        expected="one row per PersonId and MetricDate",
                        hint=_HINT,
                    )
                continue
            if runs and runs[-1][:2] == [who, group]:
                runs[-1][3] = week + 7
            else:
                runs.append([who, group, week, week + 7])
            previous = index
        for start in range(0, len(runs), ctx.batch_rows):
            chunk = runs[start : start + ctx.batch_rows]
            teams = pa.array([groups[run[1]] or None for run in chunk], pa.string())
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array([people[run[0]] for run in chunk], pa.string()),
                    pa.array([run[2] for run in chunk], pa.int32()).cast(pa.date32()),
                    pa.array([run[3] for run in chunk], pa.int32()).cast(pa.date32()),
                    teams,
                    teams,
                    *(pa.nulls(len(chunk), pa.string()) for _ in range(5)),
                    pa.nulls(len(chunk), pa.list_(pa.string())),
                    pa.nulls(len(chunk), pa.string()),
                ],
                schema=DIRECTORY_READ_SCHEMA,
            )


VIVA_PERSON_QUERY = VivaPersonQueryReader()
VIVA_DIRECTORY = VivaDirectoryReader()

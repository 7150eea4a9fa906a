"""Connector for an HR directory export: who was in which team, department and place, and when.

One row is one person's position over the half-open range [Valid From, Valid To); an empty
Valid To means "still valid". ``Email`` is pseudonymised as it is read; ``Employee ID``, ``Display
Name`` are recognised and dropped; ``Manager Email`` is pseudonymised like ``Email``,
and kept, for 1:1 time with one's manager. The optional ``Time Zone``, ``Working
Hours Start`` and ``Working Hours End`` (after-hours metrics) and ``Proxy Addresses`` or
``Aliases`` (the person's other addresses, as Entra ID exports them: ``SMTP:a@x;smtp:b@x``, or a
plain list separated by ``;``, ``,`` or spaces; ``sip:`` entries count too, ``x500:`` and other
kinds are not addresses) are read for the ingestion that reads mail and calendars alongside, and
never stored. Ranges of one person must not overlap, or the person would count in two groups in
one window.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import DIRECTORY_READ_SCHEMA
from teamlens.errors import InputFormatError
from teamlens.sources.columns import dates, first_true, required_text, text
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.csv_table import (
    CsvBatch,
    CsvLayout,
    CsvTable,
    missing_columns,
    normalise_header,
    sniff_header,
)
from teamlens.sources.csv_table import (
    needs_columns as _needs,
)

EMAIL = "Email"
ALIAS_COLUMNS = ("Proxy Addresses", "Aliases")
VALID_FROM = "Valid From"
VALID_TO = "Valid To"
MANAGER = "Manager Email"
#: Grouping columns, by the DIRECTORY_READ_SCHEMA field each one fills.
GROUP_COLUMNS = {"team": "Team", "department": "Department", "division": "Division", "location": "Location"}

HR_LAYOUT = CsvLayout(
    describe="the header of an HR directory export",
    documented=(
        "Email,Team,Valid From (required); Department,Division,Location,Valid To,Time Zone,"
        "Working Hours Start,Working Hours End,Proxy Addresses,Manager Email"
    ),
    required=(EMAIL, "Team", VALID_FROM),
    optional=(
        "Department",
        "Division",
        "Location",
        VALID_TO,
        "Working Hours Start",
        "Working Hours End",
        "Time Zone",
        *ALIAS_COLUMNS,
        MANAGER,
    ),
    ignored=("Employee ID", "Display Name"),
    hint="Add the missing column to the HR export; column order and letter case do not matter.",
)
_NO_END = (1 << 31) - 1  # the last date32 day number: an open range ends after every date


@dataclass(frozen=True)
class HrDirectoryReader:
    """Read an HR directory CSV into ``DIRECTORY_READ_SCHEMA`` rows (a ``DirectoryReader``)."""

    name: str = "hr_directory_csv"
    description: str = (
        "HR directory CSV: Email, Team, Valid From and optionally Department, Division, Location, "
        "Valid To, working hours, time zone and proxy addresses"
    )

    def sniff(self, path: Path) -> bool:
        """True when the first line of ``path`` has the Email, Team and Valid From columns."""
        names = sniff_header(path)
        return names is not None and {normalise_header(n) for n in HR_LAYOUT.required} <= names

    def lacks(self, path: Path) -> str:
        """What ``path`` would need to be read by this connector (for the error when none can)."""
        return _needs(missing_columns(path, HR_LAYOUT.required))

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield directory rows from ``path``, refusing backwards or overlapping ranges."""
        table = CsvTable(path, HR_LAYOUT, report)
        excluded = pa.array(sorted(ctx.excluded_persons), pa.string())
        # person → (first day, end day, data-row index) of each range seen: one entry per row
        # of the directory, which grows with headcount, not with activity.
        ranges: dict[str, list[tuple[int, int, int]]] = {}
        for batch in table.batches(ctx.batch_rows):
            report.rows_read += batch.num_rows
            start = dates(batch, VALID_FROM)
            end = (
                dates(batch, VALID_TO, optional=True)
                if table.has(VALID_TO)
                else pa.nulls(batch.num_rows, pa.date32())
            )
            backwards = pc.less_equal(end, start)
            if pc.any(backwards).as_py():
                raise batch.fail(
                    first_true(backwards),
                    VALID_TO,
                    "the range ends before it starts",
                    expected="a date after Valid From (the end date is exclusive)",
                )
            emails = required_text(batch, EMAIL, "an email address")
            person = pa.array([ctx.pseudonymise(email) for email in emails.to_pylist()], pa.string())
            keep = pc.invert(pc.is_in(person, value_set=excluded))
            self._check_overlaps(batch, ranges, person, start, end, keep)
            columns = {
                "person": person,
                "valid_from": start,
                "valid_to": end,
                **_working_pattern(batch, table),
                "aliases": _aliases(batch, table, ctx, person),
                "manager": _manager(batch, table, ctx),
                **{
                    field: _group(batch, column) if table.has(column) else None
                    for field, column in GROUP_COLUMNS.items()
                },
            }
            arrays = [
                columns[field.name]
                if columns[field.name] is not None
                else pa.nulls(batch.num_rows, field.type)
                for field in DIRECTORY_READ_SCHEMA
            ]
            rows = pa.RecordBatch.from_arrays(arrays, schema=DIRECTORY_READ_SCHEMA).filter(keep)
            report.rows_kept += rows.num_rows
            report.people_seen = len(ranges)
            if rows.num_rows:
                yield rows

    @staticmethod
    def _check_overlaps(
        batch: CsvBatch,
        ranges: dict[str, list[tuple[int, int, int]]],
        person: pa.Array,
        start: pa.Array,
        end: pa.Array,
        keep: pa.Array,
    ) -> None:
        starts = pc.cast(start, pa.int32()).to_pylist()
        ends = pc.cast(end, pa.int32()).fill_null(_NO_END).to_pylist()
        for row, (who, first, last, kept) in enumerate(
            zip(person.to_pylist(), starts, ends, keep.to_pylist(), strict=True)
        ):
            if not kept:
                continue
            index = batch.first_row + row
            earlier = ranges.setdefault(who, [])
            for other_first, other_last, other_index in earlier:
                if first < other_last and other_first < last:
                    lines = batch.table.lines_of((other_index, index))
                    raise InputFormatError(
                        batch.table.path,
                        f"this range overlaps the range on line {lines.get(other_index)} for the same person",
                        line=lines.get(index),
                        field=VALID_FROM,
                        expected="one range per person on any date (Valid To is the next Valid From)",
                    )
            earlier.append((first, last, index))


def _group(batch: CsvBatch, column: str) -> pa.Array:
    values = text(batch, column)
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


HR_DIRECTORY = HrDirectoryReader()


#: Optional working-pattern columns, by the DIRECTORY_READ_SCHEMA field each one fills.
WORKING_COLUMNS = {
    "time_zone": "Time Zone",
    "work_start": "Working Hours Start",
    "work_end": "Working Hours End",
}


def _working_pattern(batch: CsvBatch, table: CsvTable) -> dict[str, pa.Array | None]:
    """The person's time zone and hours, checked so after-hours metrics never guess."""
    found: dict[str, pa.Array | None] = {}
    for field, column in WORKING_COLUMNS.items():
        if not table.has(column):
            found[field] = None
            continue
        values = text(batch, column)
        for index, value in enumerate(values.to_pylist()):
            if value and not _valid_working_value(field, value):
                expected = "a time HH:MM" if field != "time_zone" else "an IANA zone such as Europe/London"
                raise batch.fail(index, column, "is not a valid value", expected=expected)
        found[field] = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return found


#: Kinds of proxy address that are addresses mail or calls can come from (Entra ID's prefixes).
_ADDRESS_KINDS = ("smtp:", "sip:")


def _aliases(batch: CsvBatch, table: CsvTable, ctx: ReadContext, person: pa.Array) -> pa.Array | None:
    """Pseudonyms of each row's other addresses (its proxy addresses), without the person's own."""
    columns = [column for column in ALIAS_COLUMNS if table.has(column)]
    if not columns:
        return None
    found: list[list[str] | None] = []
    values = [text(batch, column).to_pylist() for column in columns]
    for row, own in enumerate(person.to_pylist()):
        entries = " ".join(value[row] or "" for value in values).replace(";", " ").replace(",", " ")
        aliases = set()
        for entry in entries.split():
            kind, _, rest = entry.rpartition(":") if ":" in entry else ("", "", entry)
            if kind and kind.lower() + ":" not in _ADDRESS_KINDS:
                continue  # x500:, eum: and the like name no mailbox
            if "@" in rest:
                aliases.add(ctx.pseudonymise(rest))
        aliases.discard(own)
        found.append(sorted(aliases) or None)
    return pa.array(found, pa.list_(pa.string()))


def _manager(batch: CsvBatch, table: CsvTable, ctx: ReadContext) -> pa.Array | None:
    """The pseudonym of each row's manager (null where the column is empty)."""
    if not table.has(MANAGER):
        return None
    values = text(batch, MANAGER).to_pylist()
    return pa.array([ctx.pseudonymise(value) if value else None for value in values], pa.string())


def _valid_working_value(field: str, value: str) -> bool:
    if field == "time_zone":
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return False
        return True
    try:
        dt.time.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 5

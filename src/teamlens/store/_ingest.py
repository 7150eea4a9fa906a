"""Checking incoming facts and directories, and streaming facts to a staging file.

Input is checked batch by batch with vectorised Arrow kernels, so a stream of any length is
validated without ever holding it whole. Every message names the batch, the column and a count
of offending rows, never a value: values and pseudonyms are personal data.

Staging files carry a small integer per person (``person_id``) instead of the 64-digit
pseudonym, and the pseudonyms once, in a file of their own (``PEOPLE_FILE``): the pseudonym was
most of each staged row's bytes, and the month merge sorts and checks keys on integers far
faster than on long strings. A connector may hand the person column over dictionary-encoded
(``PseudonymColumn.encoded``): then each distinct pseudonym is looked up once per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA, HIDDEN_PREFIX
from teamlens.errors import StoreError
from teamlens.store._duck import ROW_NUMBER, parquet_writer
from teamlens.store._files import cipher_for, make_private
from teamlens.store._read_ahead import read_ahead

_STAGING_ROWS = 262_144
#: The staging file (in the commit's staging folder) mapping each ``person_id`` to its pseudonym.
PEOPLE_FILE = "people.parquet"
PERSON_ID = "person_id"
PEOPLE_SCHEMA = pa.schema(
    [pa.field(PERSON_ID, pa.int32(), nullable=False), pa.field("person", pa.string(), nullable=False)]
)
#: The staged facts: ``FACT_SCHEMA`` with each pseudonym replaced by its ``person_id``.
STAGED_SCHEMA = pa.schema([pa.field(PERSON_ID, pa.int32(), nullable=False), *list(FACT_SCHEMA)[1:]])
_FIX_HINT = "This is a bug in the source connector that produced the facts; nothing was stored."


def _conform(
    data: pa.RecordBatch | pa.Table, schema: pa.Schema, what: str, encoded: frozenset[str] = frozenset()
) -> pa.Table:
    """``data`` with exactly ``schema``'s columns and types, or a StoreError naming the column.

    A column named in ``encoded`` may also come as a dictionary of its strings, and stays so.
    """
    names = set(data.schema.names)
    expected = set(schema.names)
    if names != expected:
        missing = ", ".join(sorted(expected - names)) or "none"
        extra = ", ".join(sorted(names - expected)) or "none"
        raise StoreError(
            f"{what}: columns do not match (missing: {missing}; unexpected: {extra}).",
            _FIX_HINT,
        )
    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    columns = []
    fields = []
    for target in schema:
        column = table.column(target.name)
        if column.null_count and not target.nullable:
            raise StoreError(
                f"{what}: column '{target.name}' is empty in {column.null_count} row(s) (expected a value).",
                _FIX_HINT,
            )
        if target.name in encoded and _is_encoded(column.type, target.type):
            if any(chunk.dictionary.null_count for chunk in column.chunks):
                raise StoreError(
                    f"{what}: column '{target.name}' has an empty value (expected one).", _FIX_HINT
                )
            # Kept encoded: the stager looks each distinct value up once (``_People``).
            columns.append(column)
            fields.append(target.with_type(column.type))
            continue
        try:
            columns.append(column.cast(target.type))
            fields.append(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise StoreError(
                f"{what}: column '{target.name}' has type {column.type} (expected {target.type}).",
                _FIX_HINT,
            ) from None
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _is_encoded(given: pa.DataType, target: pa.DataType) -> bool:
    """True when ``given`` is a dictionary of ``target`` strings (as a connector may hand a column over)."""
    if not (pa.types.is_string(target) and isinstance(given, pa.DictionaryType)):
        return False
    return bool(pa.types.is_string(given.value_type))


def _count_true(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.sum(mask.cast(pa.int64())).as_py() or 0)


def checked_facts(data: pa.RecordBatch | pa.Table, what: str) -> pa.Table:
    """``data`` as a ``FACT_SCHEMA`` table, after checking that every row is a well-formed fact.

    Its ``person`` column may stay a dictionary of pseudonyms, as a connector may hand it over.
    """
    table = _conform(data, FACT_SCHEMA, what, encoded=frozenset({"person"}))
    days = table.column("days")
    bad_days = _count_true(pc.invert(pc.is_in(days, value_set=pa.array([1, 7], pa.int8()))))
    if bad_days:
        raise StoreError(f"{what}: column 'days' is not 1 or 7 in {bad_days} row(s).", _FIX_HINT)
    # A weekly fact must start on its ISO week's Monday, or it would be counted in another week.
    not_monday = pc.and_(pc.equal(days, 7), pc.not_equal(pc.day_of_week(table.column("day")), 0))
    late = _count_true(not_monday)
    if late:
        raise StoreError(
            f"{what}: column 'day' of a weekly fact (days = 7) is not a Monday in {late} row(s).", _FIX_HINT
        )
    return table


def _batches(facts: Iterable[pa.RecordBatch] | pa.Table) -> Iterator[pa.RecordBatch | pa.Table]:
    if isinstance(facts, pa.Table):
        yield from facts.to_batches(max_chunksize=_STAGING_ROWS)
    else:
        yield from read_ahead(facts)


def month_keys(days: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """The store month ("YYYY-MM") of each day: the calendar month of its ISO week's Monday."""
    monday = pc.subtract(days.cast(pa.int32()), pc.day_of_week(days).cast(pa.int32())).cast(pa.date32())
    # Formatting a string per fact was a fifth of a large ingest: compute YYYYMM as a number,
    # format only the distinct months, and map each fact to its label.
    number = pc.add(pc.multiply(pc.year(monday), 100), pc.month(monday))
    distinct = pc.unique(number)
    labels = pa.array(
        [f"{value // 100:04d}-{value % 100:02d}" for value in distinct.to_pylist()], pa.string()
    )
    return pc.take(labels, pc.index_in(number, value_set=distinct))


@dataclass
class StagedFacts:
    """Incoming facts, checked and split by store month, in arrival order within each month file.

    The month files hold ``STAGED_SCHEMA`` rows; ``people`` maps their ``person_id`` to pseudonyms.
    """

    received: int = 0
    months: dict[str, Path] = field(default_factory=dict)
    people: Path | None = None


class _People:
    """Number the pseudonyms of one commit (0, 1, 2… as they arrive), each distinct one once per batch."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        # A connector's encoded batches usually share one dictionary: its numbers are kept.
        self._last: tuple[pa.Array, pa.Array] | None = None

    def ids(self, person: pa.ChunkedArray) -> pa.ChunkedArray:
        """The ``person_id`` of every value of ``person`` (strings, or a dictionary of strings)."""
        return pa.chunked_array([self._chunk_ids(chunk) for chunk in person.chunks], pa.int32())

    def _chunk_ids(self, chunk: pa.Array) -> pa.Array:
        encoded = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
        dictionary = encoded.dictionary
        if self._last is not None and self._last[0].equals(dictionary):
            numbers = self._last[1]
        else:
            lookup = self._ids
            numbers = pa.array(
                [lookup.setdefault(name, len(lookup)) for name in dictionary.to_pylist()], pa.int32()
            )
            self._last = (dictionary, numbers)
        return pc.take(numbers, encoded.indices)

    def table(self) -> pa.Table:
        """Every pseudonym numbered so far, with its ``person_id``."""
        return pa.table(
            [pa.array(self._ids.values(), pa.int32()), pa.array(self._ids.keys(), pa.string())],
            schema=PEOPLE_SCHEMA,
        )


class _MonthWriters:
    """One staging Parquet file per month, buffered so that small batches make sensible row groups."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbered = cipher_for(folder) is not None
        numbered = STAGED_SCHEMA.append(pa.field(ROW_NUMBER, pa.int64()))
        self._schema = numbered if self._numbered else STAGED_SCHEMA
        self._people = _People()
        self._rows: dict[str, int] = {}
        self.staged = StagedFacts()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[pa.Table]] = {}
        self._pending_rows = 0

    def add(self, facts: pa.Table) -> None:
        self.staged.received += facts.num_rows
        ids = self._people.ids(facts.column("person"))
        others = [facts.column(name) for name in STAGED_SCHEMA.names[1:]]
        table = pa.Table.from_arrays([ids, *others], schema=STAGED_SCHEMA)
        keys = month_keys(table.column("day"))
        for month in pc.unique(keys).to_pylist():
            part = table.filter(pc.equal(keys, month))
            self._pending.setdefault(month, []).append(part)
            self._pending_rows += part.num_rows
        # Bound what is buffered in total, however many months the input spreads over.
        if self._pending_rows >= _STAGING_ROWS:
            self.flush()

    def flush(self) -> None:
        for month, parts in self._pending.items():
            if month not in self._writers:
                path = self.folder / f"{month}.parquet"
                # Staging files live for one commit: compressing them would cost a tenth of it.
                self._writers[month] = parquet_writer(path, self._schema, compression="none")
                make_private(path)
                self.staged.months[month] = path
            table = pa.concat_tables(parts)
            if self._numbered:
                # An encrypted store is scanned through pyarrow, which has no row positions:
                # the arrival order the merge needs is written with the rows (see _duck.scan).
                first = self._rows.get(month, 0)
                self._rows[month] = first + table.num_rows
                table = table.append_column(
                    ROW_NUMBER, pa.array(range(first, first + table.num_rows), pa.int64())
                )
            self._writers[month].write_table(table)
        self._pending.clear()
        self._pending_rows = 0

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()

    def write_people(self) -> None:
        """Write the pseudonyms of the staged ``person_id``s (after the last batch)."""
        path = self.folder / PEOPLE_FILE
        with parquet_writer(path, PEOPLE_SCHEMA, compression="none") as writer:
            make_private(path)
            writer.write_table(self._people.table())
        self.staged.people = path


def stage_facts(facts: Iterable[pa.RecordBatch] | pa.Table, folder: Path) -> StagedFacts:
    """Check ``facts`` and write them, split by store month, to staging files under ``folder``.

    Arrival order is kept inside each month file: its row numbers decide which of two rows
    with one key came last. Only a bounded number of rows is in memory at any time.
    """
    writers = _MonthWriters(folder)
    try:
        for number, batch in enumerate(_batches(facts), start=1):
            what = f"facts batch {number} (from row {writers.staged.received + 1})"
            writers.add(checked_facts(batch, what))
        writers.flush()
    finally:
        writers.close()
    writers.write_people()
    return writers.staged


def checked_directory(directory: pa.Table) -> pa.Table:
    """``directory`` as a ``DIRECTORY_SCHEMA`` table sorted by person and date, after checking it.

    Each person must have at most one row valid on any day; otherwise a person could be
    counted in two groups of one window, which would break the release's sensitivity.
    """
    what = "directory"
    table = _conform(directory, DIRECTORY_SCHEMA, what)
    valid_from = table.column("valid_from")
    valid_to = table.column("valid_to")
    empty_ranges = _count_true(pc.fill_null(pc.less_equal(valid_to, valid_from), False))
    if empty_ranges:
        raise StoreError(
            f"{what}: 'valid_to' is not after 'valid_from' in {empty_ranges} row(s).",
            "Each row covers [valid_from, valid_to); leave valid_to empty for the current row. "
            "Fix the HR directory export; nothing was stored.",
        )
    for level in ("team", "department", "division", "location"):
        reserved = _count_true(pc.fill_null(pc.starts_with(table.column(level), HIDDEN_PREFIX), False))
        if reserved:
            raise StoreError(
                f"{what}: {reserved} '{level}' value(s) start with a control character (U+001F).",
                "Group names must be printable text; fix the HR directory export. Nothing was stored.",
            )
    table = table.sort_by([("person", "ascending"), ("valid_from", "ascending")])
    overlaps = overlapping_rows(table)
    if overlaps:
        raise StoreError(
            f"{what}: {overlaps} row(s) start before the same person's previous row ends.",
            "Each person needs one row per period, with no overlaps; fix the HR directory export. "
            "Nothing was stored.",
        )
    return table


def overlapping_rows(table: pa.Table) -> int:
    """How many rows of a person-and-date-sorted directory overlap the same person's previous row."""
    if table.num_rows < 2:
        return 0
    person = table.column("person")
    previous_person = person.slice(0, table.num_rows - 1)
    previous_to = table.column("valid_to").slice(0, table.num_rows - 1)
    following = table.slice(1)
    same_person = pc.equal(following.column("person"), previous_person)
    # An open-ended previous row (valid_to empty) overlaps everything after it.
    overlapping = pc.or_(pc.is_null(previous_to), pc.greater(previous_to, following.column("valid_from")))
    return _count_true(pc.and_(same_person, pc.fill_null(overlapping, True)))

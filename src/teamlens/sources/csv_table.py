"""Read a vendor CSV by header name, streaming, with errors that name file, line and column.

Columns are matched by their header name (case and spacing ignored), never by position, since
vendors add and rename columns. The header is read with the ``csv`` module; the rows are read
by Arrow's streaming CSV reader as strings, because the ``csv`` module alone reaches only a
sixth of DuckDB's speed. When Arrow rejects the file, or a value fails to convert, the file is
scanned again with the ``csv`` module to name the physical line (the header is line 1) — so
the slow path runs only on a broken file, and Arrow's own messages, which quote the row, are
never shown. Arrow reads :data:`_BLOCK_BYTES` at a time and the ``csv`` module is handed lines of
at most :data:`MAX_LINE_CHARS`, so a file with a gigantic line (or header) is refused with its
line number instead of being held in memory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pa_csv

from teamlens.errors import InputFormatError
from teamlens.sources.context import ReadReport

_SNIFF_BYTES = 64 * 1024
_BLOCK_BYTES = 4 * 1024 * 1024
#: The longest physical line the ``csv`` module is given (the header's, or a broken file's).
MAX_LINE_CHARS = 1024 * 1024
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # what surrogateescape turns invalid UTF-8 into
_UTF8_HINT = "Save or export the file as 'CSV UTF-8'."


def normalise_header(name: str) -> str:
    """The form headers are compared in: case-folded, without spaces, underscores, hyphens or BOM.

    So ``Valid From``, ``valid_from``, ``ValidFrom`` and ``VALID-FROM`` are one column, as the
    exports and the spreadsheets people save them through spell it.
    """
    return _SEPARATORS.sub("", name.replace("\ufeff", "")).casefold()


def needs_columns(missing: list[str]) -> str:
    """Say which columns a file lacks for a connector, in the words of the error that lists them."""
    if not missing:
        return "has the columns it needs, but did not recognise the file"
    return "would need the column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing)


def missing_columns(path: Path, columns: tuple[str, ...]) -> list[str]:
    """Which of ``columns`` the first line of ``path`` lacks (all of them when it has no header)."""
    names = sniff_header(path) or frozenset()
    return [column for column in columns if normalise_header(column) not in names]


_SEPARATORS = re.compile(r"[\s_\-]+")


def sniff_header(path: Path) -> frozenset[str] | None:
    """The normalised column names on the first line of ``path``, or None if it has none."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        line = head.decode("utf-8-sig").splitlines()[0]
        fields = next(csv.reader([line], strict=True))
    except (OSError, UnicodeDecodeError, IndexError, StopIteration, csv.Error):
        return None
    return frozenset(normalise_header(field) for field in fields)


#: A header cell that looks like a value rather than a column name: an address, a number, a
#: date, a long hexadecimal id, or anything with digits and an @ or a dot in it.
_DATA_LIKE = re.compile(r"@|^[\d\s.,:/+-]+$|\d{4}-\d{2}-\d{2}|[0-9A-Fa-f]{16,}")


def _unknown_columns_note(unknown: list[str]) -> str:
    """The note for columns the layout does not know, naming them only when none looks like data.

    When the line break after the header is lost, the first row's values become extra header
    cells; echoing them would print one person's data in an admin's summary.
    """
    plural = "s" if len(unknown) > 1 else ""
    if any(_DATA_LIKE.search(name) for name in unknown):
        return (
            f"ignored {len(unknown)} unknown column{plural}; their names are not shown because some "
            "look like data (is the line break after the header missing?)"
        )
    return f"ignored {len(unknown)} unknown column{plural}: " + ", ".join(unknown)


@dataclass(frozen=True)
class CsvLayout:
    """Describe one CSV format: the columns read, and those known but deliberately not read.

    ``required`` columns must be present; ``optional`` ones are read when present; ``ignored``
    are documented columns teamlens never stores (names, ids), dropped without a note. Any other
    column is dropped with a note naming it. ``describe`` names the format in errors
    ("the header of getEmailActivityUserDetail") and ``documented`` is its documented header.
    """

    describe: str
    documented: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    hint: str = ""


class CsvTable:
    """Open ``path`` as ``layout``: checks the header now, then streams string columns by name."""

    def __init__(self, path: Path, layout: CsvLayout, report: ReadReport) -> None:
        self.path = path
        self.layout = layout
        header = self._read_header()
        self.width = len(header)
        positions: dict[str, list[int]] = {}
        for position, raw in enumerate(header):
            positions.setdefault(normalise_header(raw), []).append(position)
        wanted = {normalise_header(name): name for name in (*layout.required, *layout.optional)}
        for key, name in wanted.items():
            if len(positions.get(key, ())) > 1:
                raise InputFormatError(
                    path,
                    f"column '{name}' appears more than once",
                    line=1,
                    expected=f"{layout.describe}: {layout.documented}",
                )
        missing = [name for name in layout.required if normalise_header(name) not in positions]
        if missing:
            listed = ", ".join(f"'{name}'" for name in missing)
            raise InputFormatError(
                path,
                f"missing column{'s' if len(missing) > 1 else ''} {listed}",
                line=1,
                expected=f"{layout.describe}: {layout.documented}",
                hint=layout.hint or "Export the report again without removing columns.",
            )
        #: position in the file of every column read, by its name as the layout spells it
        self.positions = {name: positions[key][0] for key, name in wanted.items() if key in positions}
        known = set(wanted) | {normalise_header(name) for name in layout.ignored}
        unknown = [raw.strip() for raw in header if normalise_header(raw) not in known]
        if unknown:
            report.note(_unknown_columns_note(unknown))

    def has(self, name: str) -> bool:
        """True when the file carries column ``name`` (as the layout spells it)."""
        return name in self.positions

    def batches(self, batch_rows: int) -> Iterator[CsvBatch]:
        """Yield the data rows, at most ``batch_rows`` at a time, as string columns."""
        names = [f"c{position}" for position in range(self.width)]
        chosen = {name: f"c{position}" for name, position in self.positions.items()}
        reader_options = pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=_BLOCK_BYTES)
        parse_options = pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True)
        convert_options = pa_csv.ConvertOptions(
            include_columns=sorted(set(chosen.values())),
            column_types={name: pa.string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        first_row = 0
        try:
            stream = pa_csv.open_csv(self.path, reader_options, parse_options, convert_options)
            for block in stream:
                for start in range(0, block.num_rows, batch_rows):
                    piece = block.slice(start, batch_rows)
                    columns = {name: piece.column(column) for name, column in chosen.items()}
                    yield CsvBatch(self, first_row, piece.num_rows, columns)
                    first_row += piece.num_rows
        except pa.ArrowException:
            # The csv module's scan raises its precise account of the problem; Arrow also
            # refuses a header-only file without a final newline, which is simply empty.
            if self._scan(frozenset())[1] == first_row == 0:
                return
            raise InputFormatError(
                self.path, "could not be read as CSV", expected=self.layout.describe, hint=_UTF8_HINT
            ) from None

    def lines_of(self, rows: tuple[int, ...]) -> dict[int, int]:
        """Map data-row indexes (0 = first row after the header) to the line each starts on.

        Scans the file with the ``csv`` module and raises the first structural problem it meets
        (bad encoding, unclosed quote, wrong number of fields): a slow path for error messages.
        """
        return self._scan(frozenset(rows))[0]

    def _scan(self, wanted: frozenset[int]) -> tuple[dict[int, int], int]:
        found: dict[int, int] = {}
        end = 1
        index = -1
        with self._open() as handle:
            reader = csv.reader(self._lines(handle), strict=True)
            try:
                next(reader)  # the header, already checked
                for fields in reader:
                    start, end = end + 1, reader.line_num
                    if not fields:
                        continue
                    index += 1
                    if len(fields) != self.width:
                        raise self._width_error(start, len(fields), reader)
                    # Like Arrow, look only at the columns read: the others are never decoded.
                    if _UNDECODABLE.search("".join(fields[i] for i in self.positions.values())):
                        raise InputFormatError(
                            self.path, "is not valid UTF-8 text", line=start, hint=_UTF8_HINT
                        )
                    if index in wanted:
                        found[index] = start
                        if len(found) == len(wanted):
                            return found, index + 1
            except csv.Error as error:
                raise self._csv_error(end + 1, error) from None
        return found, index + 1

    def _lines(self, handle: IO[str]) -> Iterator[str]:
        """The physical lines of ``handle``, refusing one longer than MAX_LINE_CHARS."""
        number = 0
        while line := handle.readline(MAX_LINE_CHARS):
            number += 1
            if len(line) == MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
                raise InputFormatError(
                    self.path,
                    f"has a line longer than {MAX_LINE_CHARS // 2**20} Mi characters",
                    line=number,
                    expected=f"{self.layout.describe}: rows of a reasonable length",
                    hint="This is not the export it looks like; export it again.",
                )
            yield line

    def _open(self) -> IO[str]:
        try:
            # surrogateescape lets the scan point at the line with bad bytes instead of a block.
            return self.path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        except OSError as error:
            raise InputFormatError(self.path, f"cannot be opened ({error.strerror})") from None

    def _read_header(self) -> list[str]:
        expected = f"{self.layout.describe}: {self.layout.documented}"
        with self._open() as handle:
            reader = csv.reader(self._lines(handle), strict=True)
            try:
                header = next(reader, None)
            except csv.Error as error:
                raise self._csv_error(1, error) from None
            if header is None:
                raise InputFormatError(
                    self.path, "is empty: there is no header line", line=1, expected=expected
                )
            if not header or reader.line_num != 1:
                raise InputFormatError(self.path, "the first line is not a header", line=1, expected=expected)
        if _UNDECODABLE.search("".join(header)):
            raise InputFormatError(self.path, "is not valid UTF-8 text", line=1, hint=_UTF8_HINT)
        return header

    def _width_error(self, line: int, got: int, reader: Iterator[list[str]]) -> InputFormatError:
        try:
            last = not any(fields for fields in reader)
        except csv.Error:
            last = False
        if last and got < self.width:
            return InputFormatError(
                self.path,
                f"the file ends in the middle of a row ({got} of {self.width} fields)",
                line=line,
                expected=f"{self.width} fields as in the header",
                hint="The file looks truncated; download or export it again.",
            )
        return InputFormatError(
            self.path,
            f"the row has {got} fields but the header has {self.width}",
            line=line,
            hint="A value that contains a comma must be in double quotes; re-export the file.",
        )

    def _csv_error(self, line: int, error: csv.Error) -> InputFormatError:
        # The csv module's messages quote no data, but they are terse; say what they mean.
        text = str(error)
        if "unexpected end of data" in text:
            return InputFormatError(
                self.path,
                "a quoted value starting here is never closed",
                line=line,
                hint="The file looks truncated or has a stray double quote; export it again.",
            )
        if "expected after" in text:
            return InputFormatError(
                self.path,
                "a closing double quote is followed by other characters",
                line=line,
                hint="Quote the whole value and double any quote inside it.",
            )
        if "field larger than field limit" in text:
            return InputFormatError(
                self.path, f"a value is longer than {csv.field_size_limit()} characters", line=line
            )
        return InputFormatError(self.path, "is not valid CSV", line=line, expected=self.layout.describe)


class CsvBatch:
    """Up to ``batch_rows`` consecutive data rows: string columns, plus where each row lives."""

    def __init__(self, table: CsvTable, first_row: int, num_rows: int, columns: dict[str, pa.Array]) -> None:
        self.table = table
        self.first_row = first_row
        self.num_rows = num_rows
        self.columns = columns

    def fail(
        self, row: int | None, column: str, problem: str, *, expected: str | None = None, hint: str = ""
    ) -> InputFormatError:
        """The error for ``row`` (index in this batch; None if unknown) of ``column``, naming its line."""
        line = None
        if row is not None:
            index = self.first_row + row
            line = self.table.lines_of((index,)).get(index)
        return InputFormatError(
            self.table.path, problem, line=line, field=column, expected=expected, hint=hint
        )

"""Helpers shared by the sources tests: real header lines, CSV writing, reading."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pyarrow as pa

from teamlens.pseudonymise import Pseudonymiser
from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.reader import DirectoryReader, SourceReader

from ...support.paths import shared_file

ALL_METRICS = frozenset(
    {
        "emails_sent",
        "emails_received",
        "emails_read",
        "meetings_created",
        "meetings_interacted",
        "chat_messages",
        "calls",
        "meetings_attended",
        "meetings_organized",
        "meeting_minutes",
    }
)


def real_header(file_name: str) -> list[str]:
    """The vendor's real header line from the shared formats folder, or skip the test."""
    path = shared_file("data", "formats", file_name)
    return path.read_text(encoding="utf-8-sig").strip().split(",")


def quote(value: str) -> str:
    """One CSV field, quoted when it must be."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_rows(
    path: Path,
    header: Sequence[str],
    rows: Iterable[dict[str, str]],
    *,
    bom: bool = True,
    newline: str = "\r\n",
) -> Path:
    """Write ``rows`` (dicts by column name; missing columns empty) under ``header``."""
    lines = [",".join(quote(name) for name in header)]
    lines += [",".join(quote(row.get(name, "")) for name in header) for row in rows]
    path.write_bytes((("\ufeff" if bom else "") + newline.join(lines) + newline).encode("utf-8"))
    return path


def pseudonymiser() -> Pseudonymiser:
    """A pseudonymiser under a fixed test key."""
    return Pseudonymiser(b"k" * 32)


def context(
    metrics: frozenset[str] = ALL_METRICS,
    excluded: Iterable[str] = (),
    batch_rows: int = 65_536,
    pseudonymise: Callable[[str], str] | None = None,
) -> ReadContext:
    """A read context allowing ``metrics`` and excluding the pseudonyms of ``excluded``."""
    pseud = pseudonymise or pseudonymiser()
    return ReadContext(
        pseudonymise=pseud,
        metrics=metrics,
        excluded_persons=frozenset(pseud(name) for name in excluded),
        batch_rows=batch_rows,
    )


def read_all(
    reader: SourceReader | DirectoryReader, path: Path, ctx: ReadContext | None = None
) -> tuple[pa.Table, ReadReport, int]:
    """Everything ``reader`` yields for ``path`` as one table, the report, and the batch count."""
    report = ReadReport()
    batches = list(reader.read(path, ctx or context(), report))
    schema = batches[0].schema if batches else None
    if schema is None:
        return pa.table({}), report, 0
    if "person" in schema.names and pa.types.is_dictionary(schema.field("person").type):
        # A reader may hand the person column over dictionary-encoded (``SourceReader``).
        plain = schema.set(schema.get_field_index("person"), schema.field("person").with_type(pa.string()))
        batches = [batch.cast(plain) for batch in batches]
        schema = plain
    return pa.Table.from_batches(batches, schema=schema), report, len(batches)

"""A re-keyed copy of the store for a pseudonymisation key rotation (R35), built beside it.

``rekeyed_copy`` writes, into a fresh store at ``target``, the facts and directory rows of the
store at ``source`` with each person's old pseudonym replaced by their new one, as one of the
target's transactions (the batches already ingested are carried, so an export ingested before
is still recognised). What cannot be carried is left out: the rows of people the mapping does
not list (leavers), facts dated before ``since`` (the finished period's, whose key is being
destroyed) and directory rows that ended by then. The mapping is two Arrow arrays in memory,
matched with Arrow compute: no query engine that might spill it to a temporary file sees it.

The caller holds the source's writer lock for the whole rotation (``source_locked``), so no
ingest lands in the old store after it was copied; the swap of the two folders is the caller's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA
from teamlens.store._collaboration import read_edges, write_edges
from teamlens.store._duck import read_table, write_parquet
from teamlens.store._locks import writer_lock
from teamlens.store._manifest import Manifest, load
from teamlens.store._transaction import transaction

#: The order every month file is kept in (as ``_expiry.keep_month`` and the merge write it).
_FACT_ORDER = [("person", "ascending"), ("metric", "ascending"), ("day", "ascending"),
               ("days", "ascending"), ("source", "ascending")]  # fmt: skip


@dataclass(frozen=True)
class Copied:
    """What a re-keyed copy carried and left out, by class (counts only)."""

    facts: int = 0
    facts_of_leavers: int = 0
    facts_before_period: int = 0
    directory_rows: int = 0
    directory_rows_dropped: int = 0


@contextmanager
def source_locked(root: Path, timeout: float) -> Iterator[Manifest]:
    """Hold the store's writer lock (no ingest, retention or erasure runs) and yield its manifest."""
    with writer_lock(root, timeout):
        yield load(root)


def rekeyed_copy(
    source: Path,
    manifest: Manifest,
    target: Path,
    old: pa.Array,
    new: pa.Array,
    since: dt.date | None,
    timeout: float,
) -> Copied:
    """Write the re-keyed copy of ``source`` (as ``manifest`` names it) into the store at ``target``."""
    facts = leavers = before = 0
    with transaction(target, timeout) as tx:
        tx.batches = dict(manifest.batches)
        for month, relative in sorted(manifest.months.items()):
            table = read_table(source / relative, columns=FACT_SCHEMA.names).cast(FACT_SCHEMA)
            if since is not None:
                kept = table.filter(pc.greater_equal(table.column("day"), pa.scalar(since, pa.date32())))
                before += table.num_rows - kept.num_rows
                table = kept
            mapped = _mapped(table, old, new)
            leavers += table.num_rows - mapped.num_rows
            if mapped.num_rows:
                ordered = mapped.sort_by(_FACT_ORDER)
                facts += write_parquet(ordered.to_reader(), tx.new_month_file(month), FACT_SCHEMA)
        for month, relative in sorted(manifest.edges.items()):  # hook: the network's edge rows, both ends
            edges = _rekeyed_edges(source / relative, old, new, since)
            if edges.num_rows:
                write_edges(edges, tx.new_edges_file(month))
        rows = dropped = 0
        directory = manifest.directory_file(source)
        if directory is not None:
            table = read_table(directory, columns=DIRECTORY_SCHEMA.names).cast(DIRECTORY_SCHEMA)
            if since is not None:
                ended = pc.less_equal(table.column("valid_to"), pa.scalar(since, pa.date32()))
                table_kept = table.filter(pc.invert(pc.fill_null(ended, False)))
            else:
                table_kept = table
            mapped = _mapped(table_kept, old, new)
            dropped = table.num_rows - mapped.num_rows
            if mapped.num_rows:
                rows = write_parquet(mapped.to_reader(), tx.new_directory_file(), DIRECTORY_SCHEMA)
        tx.publish()
    return Copied(facts, leavers, before, rows, dropped)


def _rekeyed_edges(path: Path, old: pa.Array, new: pa.Array, since: dt.date | None) -> pa.Table:
    """One month's edge rows re-keyed at both ends (rows with an end the mapping lacks are left out)."""
    table = read_edges(path)
    if since is not None:
        table = table.filter(pc.greater_equal(table.column("day"), pa.scalar(since, pa.date32())))
    mapped = _mapped(table, old, new)
    partner = pc.index_in(mapped.column("partner"), value_set=old)
    listed = pc.is_valid(partner)
    mapped = mapped.filter(listed)
    mapped = mapped.set_column(
        mapped.schema.get_field_index("partner"), "partner", pc.take(new, partner.filter(listed))
    )
    return mapped


def _mapped(table: pa.Table, old: pa.Array, new: pa.Array) -> pa.Table:
    """``table``'s rows whose person ``old`` lists, with the person replaced by the matching ``new``."""
    index = pc.index_in(table.column("person"), value_set=old)
    listed = pc.is_valid(index)
    kept = table.filter(listed)
    people = pc.take(new, index.filter(listed))
    return kept.set_column(kept.schema.get_field_index("person"), "person", people)

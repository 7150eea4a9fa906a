"""Short-lived DuckDB connections with a bounded footprint, and streaming their results to Parquet.

Every store operation opens its own in-memory DuckDB, reads the Parquet files it needs and
closes it: nothing stays open between calls, so a crash never leaves a database to recover and
several processes can read the store at once.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from teamlens.errors import InternalError, StoreError
from teamlens.store._files import make_dir, seal, tmp_path
from teamlens.store._manifest import SPILL_DIR

#: Peak memory stays under 1 GiB on the 10-million-row benchmark; larger work spills to disk.
MEMORY_LIMIT = "1GB"
#: A commit also holds the reader's Arrow batches in Python, so DuckDB gets less room there.
COMMIT_MEMORY_LIMIT = "600MB"
THREADS = 2
_BATCH_ROWS = 262_144
#: Rows per Parquet row group of the store's files: large enough for fast scans, small enough
#: that a writer never buffers more than a few tens of megabytes.
ROW_GROUP_ROWS = 1_048_576


@contextmanager
def connect(root: Path, memory_limit: str = MEMORY_LIMIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open an in-memory DuckDB that spills into the store's own folder and is closed on exit."""
    # Spilled rows are personal data too, so they stay inside the protected data folder, in a
    # folder of their own so that concurrent queries never share spill files.
    spill = root / SPILL_DIR / uuid.uuid4().hex
    make_dir(spill.parent)
    con = duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "threads": THREADS,
            "temp_directory": str(spill),
            "preserve_insertion_order": False,
        }
    )
    try:
        yield con
    except duckdb.Error as exc:
        # DuckDB messages can quote values from the data; only the error class leaves the store.
        raise StoreError(
            f"The fact store at {root} could not run a query ({type(exc).__name__}).",
            "Run `FactStore.verify()` (teamlens store verify) to check the files; if it reports "
            "nothing, this is a bug in teamlens, please report it.",
        ) from None
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def relation(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    """A lazy relation over ``sql`` with its values bound as parameters, never spliced into the text."""
    rel = con.sql(sql, params=dict(params) if params else None)
    if rel is None:
        raise InternalError("a store query returned no relation")
    return rel


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
    """Every row of ``sql`` as tuples (for small results: counts, month lists)."""
    result: list[Any] = relation(con, sql, params).fetchall()
    return result


def view_parquet(con: duckdb.DuckDBPyConnection, name: str, files: list[Path], schema: pa.Schema) -> None:
    """Make ``name`` a view over ``files``, or over an empty table of ``schema`` when there are none."""
    # Both branches make a view, so that a later call can replace it under the same name.
    if files:
        con.read_parquet([str(path) for path in files]).create_view(name)
    else:
        con.from_arrow(schema.empty_table()).create_view(name)


def write_parquet(reader: pa.RecordBatchReader, final: Path, schema: pa.Schema) -> int:
    """Stream ``reader`` into ``final`` (written under a temp name, flushed, then renamed); returns rows."""
    tmp = tmp_path(final)
    written = 0
    with pq.ParquetWriter(tmp, schema) as writer:
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        for batch in reader:
            pending.append(batch.cast(schema))
            pending_rows += batch.num_rows
            if pending_rows >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=ROW_GROUP_ROWS)
                written += pending_rows
                pending, pending_rows = [], 0
        if pending_rows:
            writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=ROW_GROUP_ROWS)
            written += pending_rows
    seal(tmp, final)
    return written


def copy_parquet(con: duckdb.DuckDBPyConnection, sql: str, final: Path) -> int:
    """Have DuckDB write the result of ``sql`` to ``final`` itself (temp name, flushed, renamed).

    Writing inside DuckDB halves a month merge against streaming the rows through Python. The
    path is one the store made (no user input reaches it); quotes are doubled all the same.
    """
    tmp = tmp_path(final)
    target = str(tmp).replace("'", "''")
    written = con.execute(
        f"COPY ({sql}) TO '{target}' (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
    ).fetchone()
    seal(tmp, final)
    return int(written[0]) if written else 0


def stream(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    """An Arrow record-batch reader over ``sql``: the result is never held whole in memory."""
    return relation(con, sql, params).to_arrow_reader(_BATCH_ROWS)

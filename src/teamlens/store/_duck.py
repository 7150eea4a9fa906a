"""Short-lived DuckDB connections with a bounded footprint, and streaming their results to Parquet.

Every store operation opens its own in-memory DuckDB, reads the Parquet files it needs and
closes it: nothing stays open between calls, so a crash never leaves a database to recover and
several processes can read the store at once.

Every Parquet file of the store is opened through the helpers here (``view_parquet``, ``scan``,
``read_table``, ``read_schema``, ``parquet_rows``, ``write_parquet``, ``copy_parquet``,
``parquet_writer``), which encrypt and decrypt with the store's key when it has one
(``_files.cipher_for``): pyarrow writes every encrypted file, DuckDB and pyarrow read them.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from teamlens.errors import InternalError, StoreError
from teamlens.store._files import StoreCipher, cipher_for, make_dir, seal, tmp_path
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
        scan(con, files).create_view(name)
    else:
        con.from_arrow(schema.empty_table()).create_view(name)


#: The column a staging file of an encrypted store carries with each row's position (see ``scan``).
ROW_NUMBER = "file_row_number"


def scan(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[Path],
    *,
    filename: bool = False,
    file_row_number: bool = False,
) -> Any:
    """A DuckDB relation reading the store's Parquet ``files`` (decrypted when the store is encrypted).

    ``filename`` adds each row's file name; ``file_row_number`` its position in the file.
    DuckDB's own reader of encrypted Parquet rejects valid files beyond a few hundred kilobytes
    (checked against DuckDB 2.0 and pyarrow), so an encrypted store is read through pyarrow's
    decrypting dataset scanner, which DuckDB scans with projections and filters pushed down.
    There, a staging file carries its row positions as a column of its own (``ROW_NUMBER``).
    """
    names = [str(path) for path in files]
    cipher = cipher_for(files[0])
    if cipher is None:
        return con.read_parquet(names, filename=filename, file_row_number=file_row_number)
    fragments = ds.ParquetFileFormat(
        default_fragment_scan_options=ds.ParquetFragmentScanOptions(decryption_properties=cipher.reading())
    )
    if file_row_number and ROW_NUMBER not in read_schema(files[0]).names:
        raise InternalError("an encrypted store file was scanned for row numbers it does not carry")
    if not filename:
        return con.from_arrow(ds.dataset(names, format=fragments))
    schema = read_schema(files[0]).append(pa.field("filename", pa.string()))

    def named() -> Iterator[pa.RecordBatch]:
        for name in names:
            for batch in ds.dataset(name, format=fragments).to_batches():
                yield batch.append_column("filename", pa.array([name] * batch.num_rows, pa.string()))

    # Scanned once by the one query that asks for file names (count_matching).
    return con.from_arrow(pa.RecordBatchReader.from_batches(schema, named()))


def read_table(path: Path, columns: Sequence[str] | None = None, filters: Any = None) -> pa.Table:
    """The store's Parquet file ``path`` (only ``columns``, rows matching ``filters``) as an Arrow table."""
    return pq.read_table(
        path,
        columns=None if columns is None else list(columns),
        filters=filters,
        decryption_properties=_reading(path),
    )


def read_schema(path: Path) -> pa.Schema:
    """The schema of the store's Parquet file ``path``."""
    return pq.ParquetFile(path, decryption_properties=_reading(path)).schema_arrow


def parquet_rows(path: Path) -> int:
    """Rows in the store's Parquet file ``path`` (from its footer; no data is read)."""
    return int(pq.ParquetFile(path, decryption_properties=_reading(path)).metadata.num_rows)


def parquet_writer(path: Path, schema: pa.Schema, **options: Any) -> pq.ParquetWriter:
    """A pyarrow writer of one of the store's Parquet files (encrypted when the store is)."""
    cipher = cipher_for(path)
    if cipher is not None:
        options["encryption_properties"] = cipher.writing()
    return pq.ParquetWriter(path, schema, **options)


def _reading(path: Path) -> Any:
    cipher: StoreCipher | None = cipher_for(path)
    return None if cipher is None else cipher.reading()


def write_parquet(reader: pa.RecordBatchReader, final: Path, schema: pa.Schema) -> int:
    """Stream ``reader`` into ``final`` (written under a temp name, flushed, then renamed); returns rows."""
    tmp = tmp_path(final)
    written = 0
    with parquet_writer(tmp, schema) as writer:
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
    DuckDB cannot write encrypted Parquet without its httpfs extension, so for an encrypted store
    the rows are streamed to pyarrow's encrypting writer instead.
    """
    if cipher_for(final) is not None:
        reader = stream(con, sql)
        return write_parquet(reader, final, reader.schema)
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

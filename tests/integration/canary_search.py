"""Search haystacks — files, decoded file contents, outputs, logs — for canary markers.

:class:`Haystacks` collects what to search by name: every file under a folder with decoded views
of the formats that could hide text from a byte search (Parquet pages, SQLite, DuckDB, ZIP,
gzip), text outputs also with white space removed (so a wrapped line cannot split a marker), and
log records with their arguments. :func:`sightings` says which haystack holds which marker,
in UTF-8 or UTF-16-LE, ignoring letter case.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import sqlite3
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from .flow_support import files_under


@dataclass
class Haystacks:
    """Everything to search, by name: files (with decoded views), outputs, logs, error texts."""

    items: list[tuple[str, bytes]] = field(default_factory=list)

    def text(self, name: str, value: str) -> None:
        """Add text output; also without white space, so a line wrapped inside a marker still matches."""
        self.items.append((name, value.encode("utf-8")))
        self.items.append((f"{name} (unwrapped)", re.sub(r"\s+", "", value).encode("utf-8")))

    def files(self, folder: Path) -> None:
        """Add every file under ``folder``, raw and decoded."""
        for path in files_under(folder):
            self.items.extend(file_views(path))

    def logs(self, records: Iterable[logging.LogRecord], formatted: str) -> None:
        """Add log records: formatted text, each message with its arguments, exception texts."""
        self.text("logs", formatted)
        for record in records:
            parts = [record.getMessage(), repr(record.args), record.exc_text or "", record.name]
            self.text(f"log record {record.name}", "\n".join(parts))

    @property
    def size(self) -> int:
        """Bytes searched."""
        return sum(len(content) for _, content in self.items)


def file_views(path: Path) -> list[tuple[str, bytes]]:
    """The file's bytes, plus the text of what a compressed or structured format holds inside."""
    data = path.read_bytes()
    views = [(str(path), data)]
    if data[:4] == b"PAR1":
        table = pq.read_table(path)
        metadata = pq.read_metadata(path).metadata or {}
        decoded = repr(table.to_pylist()) + repr(metadata) + table.schema.to_string()
        views.append((f"{path} (Parquet values)", decoded.encode("utf-8")))
    elif data[:16] == b"SQLite format 3\x00":
        # immutable=1: read the file as it is, without creating -shm/-wal files in the data folder.
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            dumped = "\n".join(con.iterdump())
        finally:
            con.close()
        views.append((f"{path} (SQLite dump)", dumped.encode("utf-8")))
    elif data[8:12] == b"DUCK":
        with duckdb.connect(str(path), read_only=True) as duck:
            names = [
                row[0] for row in duck.sql("SELECT table_name FROM information_schema.tables").fetchall()
            ]
            dumped = repr([duck.sql(f'SELECT * FROM "{name}"').fetchall() for name in names])
        views.append((f"{path} (DuckDB tables)", dumped.encode("utf-8")))
    elif data[:2] == b"\x1f\x8b":
        views.append((f"{path} (gunzipped)", gzip.decompress(data)))
    elif zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            views += [(f"{path}!{name}", archive.read(name)) for name in archive.namelist()]
    return views


def sightings(haystacks: Haystacks, markers: Iterable[str]) -> list[str]:
    """Which haystacks hold which marker: UTF-8 or UTF-16-LE, ignoring letter case."""
    needles = [
        (marker, encoded)
        for marker in markers
        for encoded in {marker.lower().encode("utf-8"), marker.lower().encode("utf-16-le")}
    ]
    hits = []
    for name, content in haystacks.items:
        lowered = content.lower()
        hits += [f"{marker!r} in {name}" for marker, needle in needles if needle in lowered]
    return sorted(set(hits))

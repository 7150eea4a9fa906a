"""The two interfaces every connector implements: a fact source and a directory source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import pyarrow as pa

from teamlens.sources.context import ReadContext, ReadReport


@runtime_checkable
class SourceReader(Protocol):
    """Implement this to turn one export file into ``domain.FACT_SCHEMA`` batches.

    ``read`` streams: it yields batches as it goes and never holds the whole file. It may raise
    ``InputFormatError`` after some batches were yielded, so a caller commits nothing until the
    iterator is exhausted. Every identifier is pseudonymised with ``ctx.pseudonymise`` before it
    is yielded, only metrics in ``ctx.metrics`` are yielded, and ``ctx.excluded_persons`` never
    appear. The ``person`` column may come dictionary-encoded (a dictionary of FACT_SCHEMA's
    strings, as ``PseudonymColumn.encoded`` makes it), which spares a large file a copy of the
    pseudonym per fact; the store accepts both.
    """

    @property
    def name(self) -> str:
        """The connector's unique name, written to the facts' ``source`` column."""
        ...

    @property
    def description(self) -> str:
        """One line telling an admin which export this reads and how to get it."""
        ...

    def sniff(self, path: Path) -> bool:
        """Say whether ``path`` looks like this connector's format, cheaply and without raising."""
        ...

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the facts in ``path``; raise ``InputFormatError`` naming file, line and column."""
        ...


@runtime_checkable
class DirectoryReader(Protocol):
    """Implement this to turn an HR export into ``domain.DIRECTORY_READ_SCHEMA`` batches.

    The same streaming, pseudonymisation and exclusion rules apply as for ``SourceReader``.
    A directory export that also holds metrics (a Viva Insights person query) names the fact
    connector for them in an optional ``facts_source`` attribute; an ingestion then reads both.
    """

    @property
    def name(self) -> str:
        """The directory connector's unique name."""
        ...

    @property
    def description(self) -> str:
        """One line telling an admin which export this reads."""
        ...

    def sniff(self, path: Path) -> bool:
        """Say whether ``path`` looks like this connector's format, cheaply and without raising."""
        ...

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the directory rows in ``path``; raise ``InputFormatError`` on a malformed file."""
        ...

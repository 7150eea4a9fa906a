"""Read vendor exports at the edge: minimise, pseudonymise and drop objectors before anything is kept.

The typical flow: build a :class:`ReadContext` from the approved policy (the metrics it allows,
the pseudonymiser, the objectors' pseudonyms), find a connector with :func:`detect_source` or
:func:`get_source`, and iterate ``reader.read(path, ctx, report)``: it streams Arrow batches in
``domain.FACT_SCHEMA`` (directories: ``domain.DIRECTORY_SCHEMA``) and fills a
:class:`ReadReport` with counts and notes that never contain an identifier or a value. A
malformed file raises ``errors.InputFormatError`` naming the file, line and column, possibly
after some batches, so commit nothing until the iterator is exhausted. :func:`content_hash`
fingerprints a file so the same export is not ingested twice.

For the context and report, see ``context.py``; the reader interfaces, ``reader.py``; finding
connectors and the plugin hooks, ``registry.py`` and ``hookspecs.py`` (built-ins register
through the same hooks in ``builtin.py``); header-matched streaming CSV, ``csv_table.py`` and
``columns.py``; Microsoft 365 usage reports, ``m365_reports.py``; the HR directory,
``hr_directory.py``; file fingerprints, ``fingerprint.py``.
"""

from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.fingerprint import content_hash
from teamlens.sources.hookspecs import hookimpl
from teamlens.sources.reader import DirectoryReader, SourceReader
from teamlens.sources.registry import (
    detect_directory,
    detect_source,
    directory_names,
    get_directory,
    get_source,
    plugin_manager,
    source_names,
)

__all__ = [
    "DirectoryReader",
    "ReadContext",
    "ReadReport",
    "SourceReader",
    "content_hash",
    "detect_directory",
    "detect_source",
    "directory_names",
    "get_directory",
    "get_source",
    "hookimpl",
    "plugin_manager",
    "source_names",
]

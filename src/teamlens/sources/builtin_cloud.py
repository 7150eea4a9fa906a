"""Built-in cloud connectors, registered through the same hooks a third-party plugin uses."""

from __future__ import annotations

from teamlens.sources.google_live import GOOGLE_LIVE
from teamlens.sources.google_reports import GOOGLE_REPORTS
from teamlens.sources.graph_live import GRAPH_LIVE
from teamlens.sources.hookspecs import hookimpl
from teamlens.sources.reader import DirectoryReader, SourceReader


@hookimpl
def teamlens_register_sources() -> list[SourceReader]:
    """The built-in cloud fact sources: saved Google Reports JSON, live Google and Graph pulls."""
    return [GOOGLE_REPORTS, GOOGLE_LIVE, GRAPH_LIVE]


@hookimpl
def teamlens_register_directories() -> list[DirectoryReader]:
    """The built-in cloud directory sources."""
    return []

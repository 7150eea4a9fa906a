"""Built-in messaging connectors, registered through the same hooks a third-party plugin uses."""

from __future__ import annotations

from teamlens.sources.hookspecs import hookimpl
from teamlens.sources.reader import DirectoryReader, SourceReader


@hookimpl
def teamlens_register_sources() -> list[SourceReader]:
    """The built-in messaging fact sources."""
    return []


@hookimpl
def teamlens_register_directories() -> list[DirectoryReader]:
    """The built-in messaging directory sources."""
    return []

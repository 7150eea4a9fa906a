"""Built-in messaging connectors, registered through the same hooks a third-party plugin uses."""

from __future__ import annotations

from teamlens.sources.hookspecs import hookimpl
from teamlens.sources.mail_headers import MAIL_HEADERS
from teamlens.sources.reader import DirectoryReader, SourceReader
from teamlens.sources.slack_export import SLACK_EXPORT


@hookimpl
def teamlens_register_sources() -> list[SourceReader]:
    """The built-in messaging fact sources: Slack exports and mailbox headers."""
    return [SLACK_EXPORT, MAIL_HEADERS]


@hookimpl
def teamlens_register_directories() -> list[DirectoryReader]:
    """The built-in messaging directory sources."""
    return []

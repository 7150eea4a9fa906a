"""teamlens's own connectors, registered through the same hooks a third-party plugin uses."""

from __future__ import annotations

from teamlens.sources.hookspecs import hookimpl
from teamlens.sources.hr_directory import HR_DIRECTORY
from teamlens.sources.m365_reports import EMAIL_ACTIVITY, TEAMS_ACTIVITY
from teamlens.sources.reader import DirectoryReader, SourceReader


@hookimpl
def teamlens_register_sources() -> list[SourceReader]:
    """The built-in fact sources."""
    return [EMAIL_ACTIVITY, TEAMS_ACTIVITY]


@hookimpl
def teamlens_register_directories() -> list[DirectoryReader]:
    """The built-in directory sources."""
    return [HR_DIRECTORY]

"""Built-in files connectors, registered through the same hooks a third-party plugin uses."""

from __future__ import annotations

from teamlens.sources.calendar_ics import CALENDAR_ICS
from teamlens.sources.hookspecs import hookimpl
from teamlens.sources.m365_more_reports import OFFICE365_ACTIVE, ONEDRIVE_ACTIVITY, SHAREPOINT_ACTIVITY
from teamlens.sources.reader import DirectoryReader, SourceReader
from teamlens.sources.scim_directory import SCIM_DIRECTORY
from teamlens.sources.viva_insights import VIVA_DIRECTORY, VIVA_PERSON_QUERY


@hookimpl
def teamlens_register_sources() -> list[SourceReader]:
    """The built-in files fact sources."""
    return [CALENDAR_ICS, VIVA_PERSON_QUERY, ONEDRIVE_ACTIVITY, SHAREPOINT_ACTIVITY, OFFICE365_ACTIVE]


@hookimpl
def teamlens_register_directories() -> list[DirectoryReader]:
    """The built-in files directory sources."""
    return [VIVA_DIRECTORY, SCIM_DIRECTORY]

"""Read vendor exports at the edge: minimise, pseudonymise and drop objectors before anything is kept.

The typical flow: build a :class:`ReadContext` from the approved policy (the metrics it allows,
the pseudonymiser, the objectors' pseudonyms), find a connector with :func:`detect_source` or
:func:`get_source`, and iterate ``reader.read(path, ctx, report)``: it streams Arrow batches in
``domain.FACT_SCHEMA`` (directories: ``domain.DIRECTORY_READ_SCHEMA``) and fills a
:class:`ReadReport` with counts and notes that never contain an identifier or a value. A
malformed file raises ``errors.InputFormatError`` naming the file, line and column, possibly
after some batches, so commit nothing until the iterator is exhausted. :func:`content_hash`
fingerprints a file so the same export is not ingested twice.

For the context and report, see ``context.py``; the reader interfaces, ``reader.py``; finding
connectors and the plugin hooks, ``registry.py`` and ``hookspecs.py`` (built-ins register
through the same hooks, one module per family: ``builtin.py``, ``builtin_files.py``,
``builtin_messaging.py``, ``builtin_cloud.py``); header-matched streaming CSV, ``csv_table.py``
and ``columns.py``; file and folder fingerprints, ``fingerprint.py``.

The connectors: Microsoft 365 usage reports, ``m365_reports.py`` (email, Teams) and
``m365_more_reports.py`` (OneDrive, SharePoint, active users); Viva Insights person query,
``viva_insights.py``; iCalendar, ``calendar_ics.py`` with ``calendar_ics_events.py`` and
``calendar_ics_recurrence.py`` (bounded expansion); Slack exports, ``slack_export.py`` with
``slack_archive.py`` (JSON streamed by ``json_stream.py``); mbox and Maildir headers,
``mail_headers.py`` with ``mail_scan.py`` (a message counted once per ingestion:
``message_ledger.py``; ``slack_mail_tally.py`` is their shared tally; every
connector that sees correspondents applies the R18 exclusions of ``exclusions.py``; whether a
mailbox or calendar is one person's own export, counted for its owner only, is ``export_owner.py``);
Google Workspace Reports, ``google_reports.py`` (saved) and ``google_live.py`` (Admin SDK pull)
with ``google_activities.py``; Microsoft Graph live pull, ``graph_live.py`` with
``graph_metadata.py`` and ``http_client.py`` (tokens, paging, throttling). Directories: the HR
CSV, ``hr_directory.py``; SCIM 2.0, ``scim_directory.py``.
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

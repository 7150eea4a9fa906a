"""Ingest export files: gate on the approved policy, read at the edge, commit each file atomically."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from teamlens.domain import DIRECTORY_READ_SCHEMA, Policy
from teamlens.errors import InputFormatError, PolicyError
from teamlens.pseudonymise import Pseudonymiser
from teamlens.services.directory_reading import (
    NO_DIRECTORY_NOTE,
    ReadingAttributes,
    batch_key,
    reading_attributes,
    stored_directory,
)
from teamlens.services.workspace import Workspace
from teamlens.sources import (
    DirectoryReader,
    ReadContext,
    ReadReport,
    SourceReader,
    content_hash,
    detect_directory,
    detect_source,
)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input file.

    ``rows`` is None when the input held fewer people than the policy's minimum group size (one
    person's own mailbox or calendar, say): its row count would describe those people, and the
    admin running the ingest is not one of them. The governance database keeps it for auditors.
    """

    path: str
    source: str
    status: str  # "ingested", "already ingested" or "skipped"
    rows: int | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class IngestSummary:
    """What one `teamlens ingest` run did, file by file."""

    files: tuple[FileOutcome, ...]

    @property
    def rows(self) -> int:
        """Fact and directory rows committed by this run from inputs whose count may be shown."""
        return sum(outcome.rows or 0 for outcome in self.files)

    @property
    def withheld(self) -> int:
        """How many inputs' row counts are not shown (each held fewer than k people)."""
        return sum(1 for outcome in self.files if outcome.rows is None)


def _expand(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Inputs named directly, and inputs found inside named folders.

    A folder that a connector reads as a whole (an unzipped Slack export, a Maildir) is one
    input; any other folder is opened and its files and sub-folders are looked at in turn.
    """
    named: list[Path] = []
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputFormatError(path, "no such file or folder", hint="Check the path you gave.")
        if path.is_dir() and _reader_for(path, required=False) is None:
            found.extend(_walk(path))
        else:
            named.append(path)
    return named, found


def _walk(folder: Path) -> list[Path]:
    inputs: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir() and _reader_for(child, required=False) is None:
            inputs.extend(_walk(child))
        else:
            inputs.append(child)
    return inputs


def _context(
    ws: Workspace, policy: Policy, pseudonymise: Pseudonymiser, attributes: ReadingAttributes
) -> ReadContext:
    """What the readers need; for facts, with the working patterns and aliases of this run's directory."""
    return ReadContext(
        pseudonymise=pseudonymise.with_aliases(attributes.aliases) if attributes.aliases else pseudonymise,
        metrics=policy.metric_names,
        excluded_persons=frozenset(ws.governance.excluded_persons()),
        exclusions=policy.exclusions,
        working_hours=policy.working_hours,
        person_working_hours=attributes.working_hours,
        period=(policy.period_start, policy.period_end),
    )


def ingest(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    actor: str,
    on_file: Callable[[Path, int, int, int], None] | None = None,
) -> IngestSummary:
    """Read every file under ``paths`` into the store, refusing all of it without an approved policy.

    Directory (HR) files are taken first so that people's groups are known before their facts,
    and their time zones, working hours and aliases serve this run's readers (never stored).
    ``on_file(path, files done, files in all, rows committed so far)`` is told before each file.
    Each file is one atomic batch: re-ingesting a file already committed changes nothing.
    """
    active = ws.governance.require_active_policy("ingest data")
    policy = active.policy
    named, found = _expand(paths)
    # A file named on the command line must be readable; inside a folder, files no connector
    # recognises (a README, a manifest) are passed over and counted in a note.
    readers: dict[Path, _Chosen] = {}
    for path in named:
        chosen = _reader_for(path, required=True)
        assert chosen is not None  # required=True raises instead
        readers[path] = chosen
    skipped = 0
    for path in found:
        maybe = _reader_for(path, required=False)
        if maybe is None:
            skipped += 1
        else:
            readers[path] = maybe
    for path, chosen in readers.items():
        _check_allowed(path, chosen.reader.name, policy)
    pseudonymise = ws.pseudonymiser()
    ordered = sorted(readers, key=lambda p: (0 if readers[p].directory else 1, str(p)))
    outcomes: list[FileOutcome] = []
    attributes: ReadingAttributes | None = None
    ctx = _context(ws, policy, pseudonymise, ReadingAttributes())
    for index, path in enumerate(ordered):
        if on_file:
            on_file(path, index, len(ordered), sum(outcome.rows or 0 for outcome in outcomes))
        if readers[path].directory:
            outcome, attributes = _ingest_directory(ws, path, readers[path].reader, ctx, actor, policy)
        else:
            if index and readers[ordered[index - 1]].directory:
                ctx = _context(ws, policy, pseudonymise, attributes or ReadingAttributes())
            outcome = _ingest_one(ws, path, readers[path].reader, ctx, actor, policy.min_group_size)
            if attributes is None and outcome.status == "ingested":
                outcome = replace(outcome, notes=(*outcome.notes, NO_DIRECTORY_NOTE))
        outcomes.append(outcome)
    if skipped:
        note = f"passed over {skipped} files no connector recognises"
        outcomes.append(FileOutcome("(folders)", "-", "skipped", 0, (note,)))
    return IngestSummary(tuple(outcomes))


@dataclass(frozen=True)
class _Chosen:
    """The connector that recognised a file, and whether it reads a directory (HR) export."""

    reader: SourceReader | DirectoryReader
    directory: bool


def _reader_for(path: Path, *, required: bool) -> _Chosen | None:
    try:
        return _Chosen(detect_directory(path), directory=True)
    except InputFormatError:
        pass
    try:
        return _Chosen(detect_source(path), directory=False)
    except InputFormatError:
        if required:
            raise
        return None


def _check_allowed(path: Path, source: str, policy: Policy) -> None:
    if source not in policy.sources:
        raise PolicyError(
            f"{path}: this is a '{source}' export, which the approved policy does not list as a source. "
            "Nothing was ingested.",
            f"Either leave the file out, or agree a policy version whose sources include '{source}'.",
        )


def _ingest_directory(
    ws: Workspace,
    path: Path,
    reader: SourceReader | DirectoryReader,
    ctx: ReadContext,
    actor: str,
    policy: Policy,
) -> tuple[FileOutcome, ReadingAttributes]:
    """Store what placement needs of a directory export; hand back what this run's readers need.

    The file is read even when already stored: its working patterns and aliases are kept in
    memory only, so each ingestion that reads mail or calendars takes them from its own copy.
    """
    key = batch_key(content_hash(path), policy)
    label = f"{reader.name}:{key[:12]}"
    report = ReadReport()
    table = pa.Table.from_batches(list(reader.read(path, ctx, report)), schema=DIRECTORY_READ_SCHEMA)
    if table.num_rows == 0:
        # A directory export replaces the stored one whole: an empty file would wipe it.
        raise InputFormatError(
            path,
            "holds no people, and a directory export replaces the whole stored directory",
            hint="Check that the export has its data rows (a header alone is not a directory); "
            "nothing was changed.",
        )
    attributes = reading_attributes(table, policy, path)
    if ws.store.has_batch(key):
        ws.governance.ensure_ingestion_recorded(key, reader.name, label, actor)
        return FileOutcome(str(path), reader.name, "already ingested", 0, ()), attributes
    stored = stored_directory(table, policy)
    ws.store.commit(content_hash=key, source=reader.name, label=label, directory=stored)
    ws.governance.record_ingestion(key, reader.name, label, stored.num_rows, actor)
    shown = stored.num_rows if report.people_seen >= policy.min_group_size else None
    return FileOutcome(str(path), reader.name, "ingested", shown, tuple(report.notes)), attributes


def _ingest_one(
    ws: Workspace,
    path: Path,
    reader: SourceReader | DirectoryReader,
    ctx: ReadContext,
    actor: str,
    min_people: int,
) -> FileOutcome:
    digest = content_hash(path)
    label = f"{reader.name}:{digest[:12]}"
    if ws.store.has_batch(digest):
        ws.governance.ensure_ingestion_recorded(digest, reader.name, label, actor)
        return FileOutcome(str(path), reader.name, "already ingested", 0, ())
    report = ReadReport()
    summary = ws.store.commit(
        content_hash=digest, source=reader.name, label=label, facts=reader.read(path, ctx, report)
    )
    rows = summary.rows_received - summary.duplicate_keys
    ws.governance.record_ingestion(digest, reader.name, label, rows, actor)
    shown = rows if report.people_seen >= min_people else None
    return FileOutcome(str(path), reader.name, "ingested", shown, tuple(report.notes))

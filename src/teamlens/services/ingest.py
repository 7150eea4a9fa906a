"""Ingest export files: gate on the approved policy, read at the edge, commit each file atomically."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from teamlens.domain import DIRECTORY_SCHEMA, Policy, WorkingHours
from teamlens.errors import InputFormatError, PolicyError
from teamlens.pseudonymise import Pseudonymiser
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


def _context(ws: Workspace, policy: Policy, pseudonymise: Pseudonymiser) -> ReadContext:
    """What the readers need; built after the directory files so people's own hours are known."""
    default = policy.working_hours
    patterns = ws.store.working_patterns().to_pylist()
    hours = {
        row["person"]: WorkingHours(
            start=dt.time.fromisoformat(row["work_start"]) if row["work_start"] else default.start,
            end=dt.time.fromisoformat(row["work_end"]) if row["work_end"] else default.end,
            days=default.days,
            timezone=row["time_zone"] or default.timezone,
        )
        for row in patterns
    }
    return ReadContext(
        pseudonymise=pseudonymise,
        metrics=policy.metric_names,
        excluded_persons=frozenset(ws.governance.excluded_persons()),
        exclusions=policy.exclusions,
        working_hours=default,
        person_working_hours=hours,
    )


def ingest(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    actor: str,
    on_file: Callable[[Path, int, int, int], None] | None = None,
) -> IngestSummary:
    """Read every file under ``paths`` into the store, refusing all of it without an approved policy.

    Directory (HR) files are taken first so that people's groups are known before their facts.
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
    ctx = _context(ws, policy, pseudonymise)
    for index, path in enumerate(ordered):
        if on_file:
            on_file(path, index, len(ordered), sum(outcome.rows or 0 for outcome in outcomes))
        if index and readers[ordered[index - 1]].directory and not readers[path].directory:
            ctx = _context(ws, policy, pseudonymise)  # the directory just changed
        outcomes.append(_ingest_one(ws, path, readers[path], ctx, actor, policy.min_group_size))
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


def _ingest_one(
    ws: Workspace,
    path: Path,
    chosen: _Chosen,
    ctx: ReadContext,
    actor: str,
    min_people: int,
) -> FileOutcome:
    digest = content_hash(path)
    reader = chosen.reader
    label = f"{reader.name}:{digest[:12]}"
    if ws.store.has_batch(digest):
        ws.governance.ensure_ingestion_recorded(digest, reader.name, label, actor)
        return FileOutcome(str(path), reader.name, "already ingested", 0, ())
    report = ReadReport()
    if chosen.directory:
        batches = list(reader.read(path, ctx, report))
        table = pa.Table.from_batches(batches, schema=DIRECTORY_SCHEMA)
        if table.num_rows == 0:
            # A directory export replaces the stored one whole: an empty file would wipe it.
            raise InputFormatError(
                path,
                "holds no people, and a directory export replaces the whole stored directory",
                hint="Check that the export has its data rows (a header alone is not a directory); "
                "nothing was changed.",
            )
        summary = ws.store.commit(content_hash=digest, source=reader.name, label=label, directory=table)
        rows = table.num_rows
    else:
        summary = ws.store.commit(
            content_hash=digest, source=reader.name, label=label, facts=reader.read(path, ctx, report)
        )
        rows = summary.rows_received - summary.duplicate_keys
    ws.governance.record_ingestion(digest, reader.name, label, rows, actor)
    shown = rows if report.people_seen >= min_people else None
    return FileOutcome(str(path), reader.name, "ingested", shown, tuple(report.notes))

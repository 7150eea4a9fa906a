"""Ingest export files: gate on the approved policy, read at the edge, commit each file atomically."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from teamlens.domain import DIRECTORY_SCHEMA, Policy
from teamlens.errors import InputFormatError, PolicyError
from teamlens.services.workspace import Workspace
from teamlens.sources import (
    ReadContext,
    ReadReport,
    content_hash,
    detect_directory,
    detect_source,
)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input file."""

    path: str
    source: str
    status: str  # "ingested" or "already ingested"
    rows: int
    notes: tuple[str, ...]


@dataclass(frozen=True)
class IngestSummary:
    """What one `teamlens ingest` run did, file by file."""

    files: tuple[FileOutcome, ...]

    @property
    def rows(self) -> int:
        """Fact and directory rows committed by this run."""
        return sum(outcome.rows for outcome in self.files)


def _expand(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.exists():
            files.append(path)
        else:
            raise InputFormatError(path, "no such file or folder", hint="Check the path you gave.")
    return files


def _context(ws: Workspace, policy: Policy) -> ReadContext:
    return ReadContext(
        pseudonymise=ws.pseudonymiser(),
        metrics=policy.metric_names,
        excluded_persons=frozenset(ws.governance.excluded_persons()),
        exclusions=policy.exclusions,
        working_hours=policy.working_hours,
    )


def ingest(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    actor: str,
    on_file: Callable[[Path, int, int], None] | None = None,
) -> IngestSummary:
    """Read every file under ``paths`` into the store, refusing all of it without an approved policy.

    Directory (HR) files are taken first so that people's groups are known before their facts.
    Each file is one atomic batch: re-ingesting a file already committed changes nothing.
    """
    active = ws.governance.require_active_policy("ingest data")
    policy = active.policy
    files = _expand(paths)
    ctx = _context(ws, policy)
    ordered = sorted(files, key=lambda p: (0 if _directory_reader(p) else 1, str(p)))
    outcomes = []
    for index, path in enumerate(ordered):
        if on_file:
            on_file(path, index, len(ordered))
        outcomes.append(_ingest_one(ws, path, policy, ctx, actor))
    return IngestSummary(tuple(outcomes))


def _directory_reader(path: Path):  # type: ignore[no-untyped-def]
    try:
        return detect_directory(path)
    except InputFormatError:
        return None


def _ingest_one(ws: Workspace, path: Path, policy: Policy, ctx: ReadContext, actor: str) -> FileOutcome:
    digest = content_hash(path)
    directory_reader = _directory_reader(path)
    reader = directory_reader or detect_source(path)
    if reader.name not in policy.sources:
        raise PolicyError(
            f"{path}: this is a '{reader.name}' export, which the approved policy does not list as a source.",
            f"Either leave the file out, or agree a policy version whose sources include '{reader.name}'.",
        )
    label = f"{reader.name}:{digest[:12]}"
    if ws.store.has_batch(digest):
        ws.governance.ensure_ingestion_recorded(digest, reader.name, label, actor)
        return FileOutcome(str(path), reader.name, "already ingested", 0, ())
    report = ReadReport()
    if directory_reader is not None:
        batches = list(directory_reader.read(path, ctx, report))
        table = pa.Table.from_batches(batches, schema=DIRECTORY_SCHEMA)
        summary = ws.store.commit(content_hash=digest, source=reader.name, label=label, directory=table)
        rows = table.num_rows
    else:
        summary = ws.store.commit(
            content_hash=digest, source=reader.name, label=label, facts=reader.read(path, ctx, report)
        )
        rows = summary.rows
    ws.governance.record_ingestion(digest, reader.name, label, rows, actor)
    return FileOutcome(str(path), reader.name, "ingested", rows, tuple(report.notes))

"""Ingest export files: gate on the approved policy, read at the edge, commit each file atomically."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from teamlens.domain import DIRECTORY_READ_SCHEMA, Policy
from teamlens.errors import ConfigError, InputFormatError, InternalError, PolicyError
from teamlens.pseudonymise import Pseudonymiser
from teamlens.services import key_rotation
from teamlens.services.directory_reading import (
    NO_DIRECTORY_NOTE,
    ReadingAttributes,
    batch_key,
    reading_attributes,
    stored_directory,
)
from teamlens.services.ingest_activity import commit_activity, new_activity, observed
from teamlens.services.workspace import Workspace
from teamlens.sources import (
    DirectoryReader,
    ReadContext,
    ReadReport,
    SourceReader,
    content_hash,
    detect_directory,
    detect_source,
    directory_names,
    get_directory,
    get_source,
    source_names,
)
from teamlens.sources.activity import Activity
from teamlens.sources.activity_metrics import ACTIVITY_SOURCE, TIMELINE_METRICS
from teamlens.sources.registry import unrecognised


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input file; ``notes`` say why a file was passed over.

    ``rows`` is None when the input held fewer people than the policy's minimum group size (one
    person's own mailbox or calendar, say): its row count would describe those people, and the
    admin running the ingest is not one of them. The governance database keeps it for auditors.
    """

    path: str
    source: str
    status: str  # "ingested", "already ingested" or "passed over"
    rows: int | None
    notes: tuple[str, ...]


#: How the facts that combine this ingestion's calendars, mail and chat are listed among its inputs.
COMBINED_INPUT = "(calendar, mail and chat of this ingestion, combined)"
COMBINED_NOTE = (
    "metrics that combine sources (focus hours, after-hours collaboration, 1:1 time with one's "
    "manager, adoption…) were computed from the inputs of this ingestion together"
)

#: Why a file inside a folder was passed over, by kind of file.
READ_ME = "a read-me file, not an export"
UNKNOWN = "no connector recognises its content (name one with --source NAME to see what is wrong)"


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

    @property
    def passed_over(self) -> tuple[FileOutcome, ...]:
        """The files inside folders that no connector read, each with the reason in its notes."""
        return tuple(outcome for outcome in self.files if outcome.status == "passed over")


def connector_names() -> list[str]:
    """Every connector ``ingest --source`` accepts: directory sources, then fact sources."""
    return [*directory_names(), *source_names()]


def source_label(name: str) -> str:
    """A connector's name in words a worker reads ("Microsoft Teams activity per user"), for pages.

    The first clause of the connector's description; the name itself for one not installed here.
    """
    if name in directory_names():
        description = get_directory(name).description
    elif name in source_names():
        description = get_source(name).description
    else:
        return name
    return description.split(" (")[0].split(":")[0].strip()


def _is_read_me(path: Path) -> bool:
    """A read-me or notes file shipped beside exports (``README.txt``, ``NOTES.md``): never an export."""
    return path.is_file() and (path.name.lower().startswith("readme") or path.suffix.lower() == ".md")


def _expand(paths: Sequence[Path], forced: _Chosen | None) -> tuple[list[Path], list[Path]]:
    """Inputs named directly, and inputs found inside named folders.

    A folder that a connector reads as a whole (an unzipped Slack export, a Maildir) is one
    input; any other folder is opened and its files and sub-folders are looked at in turn. With
    a connector ``forced``, a folder is one input when that connector reads folders.
    """
    named: list[Path] = []
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputFormatError(path, "no such file or folder", hint="Check the path you gave.")
        whole = _reads_folder(forced, path) if forced else _reader_for(path, required=False) is not None
        if path.is_dir() and not whole:
            found.extend(_walk(path))
        else:
            named.append(path)
    return named, found


def _reads_folder(chosen: _Chosen, folder: Path) -> bool:
    """Whether the connector ``chosen`` reads ``folder`` as one input (a Slack export, a Maildir)."""
    try:
        return folder.is_dir() and chosen.reader.sniff(folder)
    except OSError:
        return False


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
    ws: Workspace,
    policy: Policy,
    pseudonymise: Pseudonymiser,
    attributes: ReadingAttributes,
    activity: Activity,
) -> ReadContext:
    """What the readers need; for facts, with the working patterns and aliases of this run's directory."""
    activity.managers, activity.staff = attributes.managers, attributes.people
    return ReadContext(
        pseudonymise=pseudonymise.with_aliases(attributes.aliases) if attributes.aliases else pseudonymise,
        metrics=policy.metric_names,
        excluded_persons=frozenset(ws.governance.excluded_persons()),
        exclusions=policy.exclusions,
        working_hours=policy.working_hours,
        person_working_hours=attributes.working_hours,
        period=(policy.period_start, policy.period_end),
        activity=activity,
    )


def ingest(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    actor: str,
    on_file: Callable[[Path, int, int, int], None] | None = None,
    strict: bool = False,
    source: str | None = None,
) -> IngestSummary:
    """Read every file under ``paths`` into the store, refusing all of it without an approved policy.

    Directory (HR) files are taken first so that people's groups are known before their facts,
    and their time zones, working hours and aliases serve this run's readers (never stored).
    ``on_file(path, files done, files in all, rows committed so far)`` is told before each file.
    Each file is one atomic batch: re-ingesting a file already committed changes nothing.
    A file named in ``paths`` must be readable; a file found inside a folder that no connector
    recognises is passed over and named with the reason, and with ``strict`` nothing at all is
    ingested while there is one (read-me files aside). ``source`` names the connector that reads
    every input, instead of recognising each by its content. With ``TEAMLENS_ENGINE=spark`` the
    M365 usage reports and mail headers are read in parallel on Spark (``spark_ingest``), with
    the same result.
    """
    if ws.settings.engine == "spark":
        from teamlens.services.spark_ingest import ingest_on_spark  # the optional teamlens[spark]

        return ingest_on_spark(ws, paths, actor=actor, strict=strict, source=source)
    plan = plan_ingest(ws, paths, strict=strict, source=source)
    policy, readers, passed_over = plan.policy, plan.readers, list(plan.passed_over)
    pseudonymise = ws.pseudonymiser()
    ordered = plan.ordered
    outcomes: list[FileOutcome] = []
    attributes: ReadingAttributes | None = None
    digests = (
        [content_hash(path) for path in ordered if not readers[path].directory]
        if policy.metric_names & TIMELINE_METRICS
        else []
    )
    activity = new_activity(ws, policy, digests)
    ctx = _context(ws, policy, pseudonymise, ReadingAttributes(), activity)
    for index, path in enumerate(ordered):
        if on_file:
            on_file(path, index, len(ordered), sum(outcome.rows or 0 for outcome in outcomes))
        if readers[path].directory:
            outcome, attributes = _ingest_directory(ws, path, readers[path].reader, ctx, actor, policy)
            companion = _facts_reader(readers[path].reader, policy)
            if companion is not None:  # the same file carries metrics too (a Viva person query)
                outcomes.append(outcome)
                ctx = _context(ws, policy, pseudonymise, attributes, activity)
                outcome = _ingest_one(ws, path, companion, ctx, actor, policy.min_group_size)
            elif getattr(readers[path].reader, "facts_source", None):
                outcome = replace(outcome, notes=(*outcome.notes, _no_facts_note(readers[path].reader)))
        else:
            if index and readers[ordered[index - 1]].directory:
                ctx = _context(ws, policy, pseudonymise, attributes or ReadingAttributes(), activity)
            outcome = _ingest_one(ws, path, readers[path].reader, ctx, actor, policy.min_group_size)
            if attributes is None and outcome.status == "ingested":
                outcome = replace(outcome, notes=(*outcome.notes, NO_DIRECTORY_NOTE))
        outcomes.append(outcome)
    combined = commit_activity(ws, ctx, digests, actor)
    if combined is not None:
        rows, people = combined
        shown = rows if people >= policy.min_group_size else None
        outcomes.append(FileOutcome(COMBINED_INPUT, ACTIVITY_SOURCE, "ingested", shown, (COMBINED_NOTE,)))
    return IngestSummary((*outcomes, *passed_over))


@dataclass(frozen=True)
class IngestPlan:
    """What one ingestion will read, decided before anything is: every input and its connector.

    ``ordered`` lists the inputs in the order they are committed: directory exports first, then
    the others by path (the store keeps the last value ingested, so the order is part of the result).
    """

    policy: Policy
    readers: dict[Path, _Chosen]
    ordered: list[Path]
    passed_over: tuple[FileOutcome, ...]


def plan_ingest(ws: Workspace, paths: Sequence[Path], *, strict: bool, source: str | None) -> IngestPlan:
    """Gate on the approved policy, find every input under ``paths`` and its connector (see ``ingest``)."""
    active = ws.governance.require_active_policy("ingest data")
    policy = active.policy
    key_rotation.require_key_of_period(ws, policy.period_start)
    forced = None if source is None else _named_reader(source)
    named, found = _expand(paths, forced)
    readers: dict[Path, _Chosen] = {}
    for path in named:
        chosen = forced or _reader_for(path, required=True)
        if chosen is None:
            raise InternalError("a connector was required for a named file but none was returned")
        readers[path] = chosen
    passed_over: list[FileOutcome] = []
    for path in found:
        maybe = None if _is_read_me(path) else forced or _reader_for(path, required=False)
        if maybe is not None:
            readers[path] = maybe
        else:
            passed_over.append(FileOutcome(str(path), "-", "passed over", 0, (_why(path),)))
    unknown = [outcome.path for outcome in passed_over if outcome.notes != (READ_ME,)]
    if strict and unknown:
        raise InputFormatError(
            unknown[0],
            f"no connector recognises it{_and_others(unknown[1:])}. Nothing was ingested.",
            hint="Move what is not an export out of the folder, name the connector that should read "
            "a file with "
            "`--source NAME` to see what is wrong (`teamlens ingest --help` lists the names), or "
            "pass `--no-strict` to ingest the rest and pass these over.",
        )
    for path, chosen in readers.items():
        _check_allowed(path, chosen.reader.name, policy)
    ordered = sorted(readers, key=lambda p: (0 if readers[p].directory else 1, str(p)))
    return IngestPlan(policy, readers, ordered, tuple(passed_over))


def _facts_reader(reader: SourceReader | DirectoryReader, policy: Policy) -> SourceReader | None:
    """The fact connector that reads the metrics of a directory export holding both, if allowed."""
    name = getattr(reader, "facts_source", None)
    return get_source(name) if name is not None and name in policy.sources else None


def _no_facts_note(reader: SourceReader | DirectoryReader) -> str:
    name = getattr(reader, "facts_source", "")
    return (
        f"this file also holds metrics, read by the '{name}' connector, which the approved policy "
        f"does not list as a source: only its directory was read (add '{name}' to the policy's "
        "sources to read both in one ingestion)"
    )


def _why(path: Path) -> str:
    return READ_ME if _is_read_me(path) else UNKNOWN


def _and_others(others: Sequence[str]) -> str:
    if not others:
        return ""
    return f", nor the {len(others)} other file(s): {', '.join(others)}"


def _named_reader(name: str) -> _Chosen:
    """The connector called ``name``; ``ConfigError`` listing every name otherwise."""
    if name in directory_names():
        return _Chosen(get_directory(name), directory=True)
    if name in source_names():
        return _Chosen(get_source(name), directory=False)
    raise ConfigError(
        f"There is no connector named '{name}'.", f"Use one of: {', '.join(connector_names())}."
    )


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
        if required and path.exists():
            raise unrecognised(path) from None
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
        if ctx.activity.enabled:  # the combined facts are not stored yet: they need this input too
            for _ in observed(reader.read(path, ctx, ReadReport()), ctx.activity):
                pass
        return FileOutcome(str(path), reader.name, "already ingested", 0, ())
    report = ReadReport()
    summary = ws.store.commit(
        content_hash=digest,
        source=reader.name,
        label=label,
        facts=observed(reader.read(path, ctx, report), ctx.activity),
    )
    rows = summary.rows_received - summary.duplicate_keys
    ws.governance.record_ingestion(digest, reader.name, label, rows, actor)
    shown = rows if report.people_seen >= min_people else None
    return FileOutcome(str(path), reader.name, "ingested", shown, tuple(report.notes))


def already_ingested(ws: Workspace, path: Path, source: str, digest: str, actor: str) -> FileOutcome:
    """The outcome of an input the store already holds (recorded in governance if it was missed)."""
    ws.governance.ensure_ingestion_recorded(digest, source, f"{source}:{digest[:12]}", actor)
    return FileOutcome(str(path), source, "already ingested", 0, ())


def commit_file(
    ws: Workspace,
    path: Path,
    source: str,
    digest: str,
    facts: Iterable[pa.RecordBatch],
    report: ReadReport,
    actor: str,
    min_people: int,
) -> FileOutcome:
    """Commit one input's ``facts`` as one batch and record the ingestion; ``report`` is read after."""
    label = f"{source}:{digest[:12]}"
    summary = ws.store.commit(content_hash=digest, source=source, label=label, facts=facts)
    rows = summary.rows_received - summary.duplicate_keys
    ws.governance.record_ingestion(digest, source, label, rows, actor)
    shown = rows if report.people_seen >= min_people else None
    return FileOutcome(str(path), source, "ingested", shown, tuple(report.notes))

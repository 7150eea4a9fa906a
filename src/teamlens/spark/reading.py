"""Reading exports on Spark's executors: the connectors' own code, in parallel over files.

``read_files`` hands each group of input files to one Spark task. The task runs the same
connector the DuckDB ingest runs (``teamlens.sources``), pseudonymising on the executor, and
streams each file's facts to a Parquet file of its own under a staging folder of the store
(which every executor must see: docs/scaling.md). Only counts, notes and file names come back
to the driver; the driver then commits each file as one batch, in the same order as
``services.ingest`` does, so the store ends up holding the same facts. Nothing is committed
while the job runs: a job killed at any moment leaves the manifest, and so the store, as it was.

**The key.** The pseudonymisation key never travels in a task, a broadcast or a file the job
writes. Each executor loads it the way the driver does, from its own environment:
``TEAMLENS_KEY`` (64 hex digits), else the file ``TEAMLENS_KEY_FILE``. A cluster puts it there
with its secret store (Kubernetes: ``spark.kubernetes.executor.secretKeyRef.TEAMLENS_KEY``;
YARN: ``spark.executorEnv.TEAMLENS_KEY``, redacted by Spark's default ``spark.redaction.regex``
only if named so; see docs/scaling.md); a local Spark's workers inherit it from the driver's
environment. What the task carries is a *key check*, the pseudonym of a fixed non-address
under the driver's key: an executor holding another key refuses to read anything, instead of
writing pseudonyms that match no one.

**Which messages are copies.** The mail connector counts a message once per ingestion however
many inputs hold a copy (``message_ledger.py``). Copies can only match within one mailbox
owner's inputs, or among organisation-wide inputs, so each owner's personal mailboxes are read
by one task, and all organisation-wide inputs by one task: parallel over mailboxes, and the
same counts as one process.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from teamlens.domain import FACT_SCHEMA, Exclusions, WorkingHours
from teamlens.errors import ConfigError, TeamlensError
from teamlens.pseudonymise import Pseudonymiser, load_key
from teamlens.settings import Settings
from teamlens.sources import ReadContext, ReadReport, get_source
from teamlens.sources.export_owner import MAIL_EXTENSIONS, owner_from_name
from teamlens.sources.m365_reports import UsageReportReader
from teamlens.sources.mail_headers import MailHeadersReader
from teamlens.sources.message_ledger import SeenMessages

#: Pseudonymised on the driver and on each executor: equal pseudonyms mean equal keys.
_KEY_CHECK = "teamlens-spark-key-check.invalid"
#: What an organisation-wide mail input is grouped under (no address has this form).
_SHARED = "\x00shared"


@dataclass(frozen=True)
class ReadJob:
    """One input file to read on Spark: which connector reads it and the batch it is committed as."""

    path: str
    connector: str
    batch: str


@dataclass(frozen=True)
class ReadRules:
    """What readers need of the policy and this run's directory: ``ReadContext`` without the key."""

    metrics: frozenset[str]
    key_check: str
    excluded_persons: frozenset[str] = frozenset()
    exclusions: Exclusions = field(default_factory=Exclusions)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    person_working_hours: Mapping[str, WorkingHours] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    period: tuple[dt.date, dt.date] | None = None


@dataclass(frozen=True)
class FileRead:
    """What reading one input gave: its staged fact files and its read report, or its error."""

    batch: str
    staged: tuple[str, ...] = ()
    people_seen: int = 0
    notes: tuple[str, ...] = ()
    error: tuple[str, str, str] | None = None  # the error's class name, message and hint

    def raise_error(self) -> None:
        """Raise the executor's error on the driver, under its own class and in its own words."""
        if self.error is None:
            return
        kind, message, hint = self.error
        cls = next((c for c in _error_classes() if c.__name__ == kind), TeamlensError)
        error = cls.__new__(cls)
        TeamlensError.__init__(error, message, hint)
        raise error


def _error_classes() -> list[type[TeamlensError]]:
    found, pending = [], [TeamlensError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def reads_on_spark(connector: str) -> bool:
    """Whether Spark reads this connector's files (M365 usage reports and mail headers)."""
    return isinstance(get_source(connector), UsageReportReader | MailHeadersReader)


def key_check(pseudonymise: Callable[[str], str]) -> str:
    """The key check a driver pseudonymising with ``pseudonymise`` gives its tasks (reveals no key)."""
    return pseudonymise(_KEY_CHECK)


def _together(job: ReadJob) -> str:
    """Which inputs one task reads: a mailbox owner's, all organisation-wide mail, or just this file."""
    if not isinstance(get_source(job.connector), MailHeadersReader):
        return f"file:{job.path}"
    return owner_from_name(Path(job.path), MAIL_EXTENSIONS) or _SHARED


def read_files(
    spark: SparkSession, jobs: Sequence[ReadJob], rules: ReadRules, staging: Path
) -> dict[str, FileRead]:
    """Read ``jobs`` on the executors, each file's facts staged under ``staging``; by batch."""
    groups: dict[str, list[ReadJob]] = {}
    for job in jobs:
        groups.setdefault(_together(job), []).append(job)
    if not groups:
        return {}
    target = str(staging)
    tasks = spark.sparkContext.parallelize(list(groups.values()), numSlices=len(groups))
    reads = tasks.flatMap(lambda group: _read_group(group, rules, target)).collect()
    return {read.batch: read for read in reads}


def executor_key() -> bytes:
    """The pseudonymisation key from this process's environment, as the driver loads it."""
    settings = Settings()
    return load_key(settings.key_file, settings.key.get_secret_value() if settings.key else None)


def _read_group(jobs: Iterable[ReadJob], rules: ReadRules, staging: str) -> list[FileRead]:
    """Run on an executor: read one group's files in order, sharing one ledger of messages."""
    try:
        pseudonymise = Pseudonymiser(executor_key())
    except ConfigError as error:
        return [FileRead(job.batch, error=(type(error).__name__, error.message, error.hint)) for job in jobs]
    if pseudonymise(_KEY_CHECK) != rules.key_check:
        problem = (
            "ConfigError",
            "A Spark executor holds another pseudonymisation key than the driver: its pseudonyms "
            "would match no one's. Nothing was read.",
            "Give the executors the installation's key in TEAMLENS_KEY (docs/scaling.md, 'The key').",
        )
        return [FileRead(job.batch, error=problem) for job in jobs]
    ctx = ReadContext(
        pseudonymise=pseudonymise.with_aliases(rules.aliases) if rules.aliases else pseudonymise,
        metrics=rules.metrics,
        excluded_persons=rules.excluded_persons,
        exclusions=rules.exclusions,
        working_hours=rules.working_hours,
        person_working_hours=rules.person_working_hours,
        messages=SeenMessages(),
        period=rules.period,
    )
    return [_read_one(job, ctx, Path(staging)) for job in jobs]


def _read_one(job: ReadJob, ctx: ReadContext, staging: Path) -> FileRead:
    report = ReadReport()
    folder = staging / job.batch
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    out = folder / f"{uuid.uuid4().hex}.parquet"
    try:
        with pq.ParquetWriter(out, FACT_SCHEMA) as writer:
            for batch in get_source(job.connector).read(Path(job.path), ctx, report):
                writer.write_batch(batch.cast(FACT_SCHEMA) if batch.schema != FACT_SCHEMA else batch)
    except TeamlensError as error:
        return FileRead(job.batch, error=(type(error).__name__, error.message, error.hint))
    return FileRead(job.batch, (str(out),), report.people_seen, tuple(report.notes))


def staged_facts(read: FileRead) -> Iterable[pa.RecordBatch]:
    """One read's facts, streamed from its staged files in the order the connector gave them."""
    for name in read.staged:
        yield from pq.ParquetFile(name).iter_batches()

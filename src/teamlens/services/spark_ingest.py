"""Ingest on Spark: the M365 usage reports and mail headers read in parallel by the executors.

The same ingestion as ``ingest.ingest`` — the same gate on the approved policy, the same inputs
and connectors (``plan_ingest``), directory exports first on the driver, each input committed
as one batch in the same order with the same content hash, label and ingestion record — except
that the usage reports and mail headers are read by Spark's executors, in parallel over files,
with pseudonymisation there (``teamlens.spark.reading`` says how the key reaches them). Other
connectors' inputs are read on the driver as usual.

Nothing is committed until every Spark-read input has been read: a malformed one refuses the
whole run with the connector's own error, and a job killed at any moment leaves the store as it
was (its staged files are garbage the store removes). Once reading is done, the inputs are
committed one by one, each atomically, as ``ingest`` commits them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from teamlens.errors import ConfigError
from teamlens.services.directory_reading import NO_DIRECTORY_NOTE, ReadingAttributes
from teamlens.services.ingest import (
    FileOutcome,
    IngestSummary,
    _context,
    _ingest_directory,
    _ingest_one,
    already_ingested,
    commit_file,
    plan_ingest,
)
from teamlens.services.ingest_activity import new_activity
from teamlens.services.workspace import Workspace
from teamlens.sources import ReadReport, content_hash
from teamlens.sources.activity_metrics import ACTIVITY_METRICS


def ingest_on_spark(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    actor: str,
    strict: bool = False,
    source: str | None = None,
    spark: Any = None,  # a pyspark SparkSession (pyspark is imported under teamlens.spark only)
) -> IngestSummary:
    """Ingest ``paths`` as ``ingest`` does, reading usage reports and mail headers on Spark."""
    from teamlens.spark import (
        ReadJob,
        ReadRules,
        key_check,
        read_files,
        reads_on_spark,
        spark_session,
        staged_facts,
    )

    plan = plan_ingest(ws, paths, strict=strict, source=source)
    policy, readers = plan.policy, plan.readers
    if ws.store.encrypted:
        raise ConfigError(
            "The Spark engine cannot write this fact store: its files are encrypted with a key only "
            "teamlens holds (TEAMLENS_ENCRYPT_STORE).",
            "Ingest with TEAMLENS_ENGINE=duckdb, or keep the store unencrypted on storage the "
            "lake encrypts at rest (docs/scaling.md).",
        )
    if policy.metric_names & ACTIVITY_METRICS:
        raise ConfigError(
            "The Spark engine cannot ingest for this policy: its combined activity metrics are "
            "computed across every input of one ingestion, which the Spark ingest does not do yet.",
            "Ingest with TEAMLENS_ENGINE=duckdb (releases can still run on Spark).",
        )
    pseudonymise = ws.pseudonymiser()
    outcomes: list[FileOutcome] = []
    attributes: ReadingAttributes | None = None
    no_activity = new_activity(ws, policy, [])
    ctx = _context(ws, policy, pseudonymise, ReadingAttributes(), no_activity)
    for path in [path for path in plan.ordered if readers[path].directory]:
        outcome, attributes = _ingest_directory(ws, path, readers[path].reader, ctx, actor, policy)
        outcomes.append(outcome)
    ctx = _context(ws, policy, pseudonymise, attributes or ReadingAttributes(), no_activity)
    facts_inputs = [path for path in plan.ordered if not readers[path].directory]
    digests = {path: content_hash(path) for path in facts_inputs}
    jobs: dict[str, ReadJob] = {}  # by batch: a second file with the same content is not read twice
    for path in facts_inputs:
        name, digest = readers[path].reader.name, digests[path]
        if reads_on_spark(name) and digest not in jobs and not ws.store.has_batch(digest):
            jobs[digest] = ReadJob(str(path), name, digest)
    rules = ReadRules(
        metrics=ctx.metrics,
        key_check=key_check(pseudonymise),
        excluded_persons=ctx.excluded_persons,
        exclusions=ctx.exclusions,
        working_hours=ctx.working_hours,
        person_working_hours=dict(ctx.person_working_hours),
        aliases=dict((attributes or ReadingAttributes()).aliases),
        period=ctx.period,
    )
    # Inside the store: kept while this run lasts, garbage the store removes if the run is killed.
    with ws.store.staging_area() as staging:
        reads = {}
        if jobs:  # a run with nothing new to read starts no Spark
            session = spark or spark_session(ws.settings.spark_master)
            reads = read_files(session, list(jobs.values()), rules, staging)
        for digest in jobs:  # every input is read before anything is committed; an error refuses all
            reads[digest].raise_error()
        for path in facts_inputs:
            name, digest = readers[path].reader.name, digests[path]
            read = reads.get(digest)
            if ws.store.has_batch(digest):
                outcome = already_ingested(ws, path, name, digest, actor)
            elif read is not None:
                report = ReadReport(people_seen=read.people_seen, notes=list(read.notes))
                outcome = commit_file(
                    ws, path, name, digest, staged_facts(read), report, actor, policy.min_group_size
                )
            else:
                outcome = _ingest_one(ws, path, readers[path].reader, ctx, actor, policy.min_group_size)
            if attributes is None and outcome.status == "ingested":
                outcome = replace(outcome, notes=(*outcome.notes, NO_DIRECTORY_NOTE))
            outcomes.append(outcome)
    return IngestSummary((*outcomes, *plan.passed_over))

"""Ingesting on Spark gives what ingesting on DuckDB gives; a Spark job killed mid-read changes nothing.

The exports: a small synthetic organisation's HR directory and weekly M365 usage reports, two
people's own mailboxes (personal exports) and an organisation-wide mbox holding copies of
messages already in another input (counted once per ingestion, whichever engine reads them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from teamlens import services
from teamlens.domain import FACT_KEY
from teamlens.errors import ConfigError
from teamlens.services import Workspace
from teamlens.settings import Settings

from ..integration.flow_support import approve_policy, policy_text
from ..unit.sources.personal_exports_kit import ALICE, BOB, MAIL, mailbox
from .conftest import EXECUTOR_KEY

POLICY = policy_text(
    **{
        'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]': (
            'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv", "mail_headers"]'
        ),
        'name = "emails_sent"\nper_week = 100': 'name = "emails_sent"\nper_week = 100\n\n'
        '[[metrics]]\nname = "after_hours_emails"\nper_week = 50\n\n'
        '[[metrics]]\nname = "email_recipients"\nper_week = 500',
    }
)


def _exports(folder: Path, weeks: int) -> Path:
    services.synthesise(folder / "org", people=30, weeks=weeks, seed=5)
    mail = folder / "mail"
    mail.mkdir()
    for owner in (ALICE, BOB):
        (mail / f"{owner}.mbox").write_text(mailbox(owner), encoding="utf-8")
    journal = "".join(message.text(sent_copy=True) for message in (*MAIL, *MAIL[:4]))
    (mail / "journal.mbox").write_text(journal, encoding="utf-8")
    return folder


def _installation(root: Path, engine: str, **settings: Any) -> Workspace:
    ws = Workspace(
        Settings(
            data_dir=root / "data",
            key_file=root / "keys" / "pseudonym.key",
            key=SecretStr(EXECUTOR_KEY),
            engine=engine,  # type: ignore[arg-type]
            **settings,
        )
    )
    services.init(ws)
    approve_policy(ws, POLICY, root / "policy.toml")
    return ws


def _stored(ws: Workspace) -> tuple[pa.Table, pa.Table | None]:
    with ws.store.files() as files:
        facts = pa.concat_tables([pq.read_table(path) for path in files.months.values()])
        directory = pq.read_table(files.directory) if files.directory else None
    return facts.sort_by([(name, "ascending") for name in (*FACT_KEY, "value")]), directory


def test_spark_ingest_stores_what_duckdb_stores(spark: Any, tmp_path: Path) -> None:
    exports = _exports(tmp_path / "exports", weeks=3)
    spaces = {engine: _installation(tmp_path / engine, engine) for engine in ("duckdb", "spark")}
    summaries = {engine: services.ingest(ws, [exports], actor="admin") for engine, ws in spaces.items()}

    assert summaries["spark"] == summaries["duckdb"]
    facts, directory = _stored(spaces["spark"])
    expected_facts, expected_directory = _stored(spaces["duckdb"])
    assert facts.equals(expected_facts)
    assert directory is not None and expected_directory is not None and directory.equals(expected_directory)
    metrics = set(facts.column("metric").to_pylist())
    assert {"emails_sent", "emails_received", "email_recipients", "after_hours_emails"} <= metrics
    records = {
        engine: [(r.content_hash, r.source, r.label, r.rows) for r in ws.governance.ingestions()]
        for engine, ws in spaces.items()
    }
    assert records["spark"] == records["duckdb"]
    assert len(records["spark"]) == sum(outcome.status == "ingested" for outcome in summaries["spark"].files)
    # The pseudonyms are the installation key's (the executors' key check passed).
    alice = spaces["spark"].pseudonymiser()(ALICE)
    assert alice in set(facts.column("person").to_pylist())


def test_an_executor_with_another_key_reads_nothing(spark: Any, tmp_path: Path) -> None:
    """Teeth for the key check: a driver whose key the executors do not hold is refused, store untouched."""
    exports = _exports(tmp_path / "exports", weeks=1)
    ws = _installation(tmp_path / "other", "spark")
    ws = Workspace(ws.settings.model_copy(update={"key": SecretStr("6b" * 32)}))
    with pytest.raises(ConfigError, match="another pseudonymisation key"):
        services.ingest(ws, [exports / "mail"], actor="admin")
    assert not (ws.settings.facts_dir / "manifest.json").exists()
    assert ws.governance.ingestions() == []


_RUN = """
import sys
from pathlib import Path
from teamlens import services
from teamlens.services import Workspace
from teamlens.settings import Settings
ws = Workspace(Settings(data_dir=Path(sys.argv[1]), key_file=Path(sys.argv[2]), engine="spark",
                        spark_master="local[1]"))
services.ingest(ws, [Path(sys.argv[3])], actor="admin")
"""


@pytest.mark.slow
def test_a_killed_spark_job_leaves_the_store_as_it_was(spark: Any, tmp_path: Path) -> None:
    exports = _exports(tmp_path / "exports", weeks=12)
    ws = _installation(tmp_path / "site", "duckdb")
    services.ingest(ws, [exports / "org" / "hr"], actor="admin")  # the directory, committed before
    manifest = ws.settings.facts_dir / "manifest.json"
    before = manifest.read_bytes()
    staging = ws.settings.facts_dir / "staging"
    env = {**os.environ, "TEAMLENS_KEY": EXECUTOR_KEY, "SPARK_LOCAL_DIRS": str(tmp_path / "spark-local")}
    args = [str(ws.settings.data_dir), str(ws.settings.key_file), str(exports / "org" / "m365")]
    process = subprocess.Popen([sys.executable, "-c", _RUN, *args], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not any(staging.glob("*/*/*.parquet")) and process.poll() is None:
            assert time.monotonic() < deadline, "the Spark job never started reading"
            time.sleep(0.02)
        assert process.poll() is None, "the ingestion ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)  # the driver, its JVM and the Python workers
        process.wait(timeout=60)
        assert manifest.read_bytes() == before
        assert json.loads(before)["months"] == {}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    reopened = Workspace(ws.settings)
    assert reopened.store.verify() == []
    assert not any(staging.glob("*"))  # the staged facts were garbage, removed on opening
    # Teeth: the same ingestion run to its end does replace the manifest.
    finished = Workspace(ws.settings.model_copy(update={"engine": "spark"}))
    services.ingest(finished, [exports / "org" / "m365"], actor="admin")
    assert manifest.read_bytes() != before

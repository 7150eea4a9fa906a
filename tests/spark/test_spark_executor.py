"""What a Spark task does on its executor, run here in the test's own process (no JVM needed).

Spark runs ``_read_group`` in worker processes that coverage does not follow; these tests call it
directly, with the environment an executor would have, so its refusals are tested line by line:
the wrong key reads nothing, a missing key reads nothing, a connector's error comes back to the
driver under its own class, and a good read stages the same facts the connector gives in-process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pytest

from teamlens.errors import ConfigError, InputFormatError
from teamlens.pseudonymise import Pseudonymiser
from teamlens.sources import ReadContext, ReadReport, get_source
from teamlens.sources.message_ledger import SeenMessages

from ..unit.sources.personal_exports_kit import ALICE, mailbox
from .conftest import EXECUTOR_KEY

reading = pytest.importorskip("teamlens.spark.reading", reason="PySpark is not installed (teamlens[spark])")

METRICS = frozenset({"emails_sent", "email_recipients"})


def _rules(key_hex: str) -> Any:
    return reading.ReadRules(
        metrics=METRICS, key_check=reading.key_check(Pseudonymiser(bytes.fromhex(key_hex)))
    )


def _mbox(tmp_path: Path) -> Path:
    path = tmp_path / f"{ALICE}.mbox"
    path.write_text(mailbox(ALICE), encoding="utf-8")
    return path


def _job(path: Path, batch: str = "b1") -> Any:
    return reading.ReadJob(str(path), "mail_headers", batch)


def test_a_task_stages_what_the_connector_reads_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMLENS_KEY", EXECUTOR_KEY)
    path = _mbox(tmp_path)
    [read] = reading._read_group([_job(path)], _rules(EXECUTOR_KEY), str(tmp_path / "staging"))
    read.raise_error()  # no error to raise
    staged = pa.Table.from_batches(list(reading.staged_facts(read)))
    context = ReadContext(
        pseudonymise=Pseudonymiser(bytes.fromhex(EXECUTOR_KEY)), metrics=METRICS, messages=SeenMessages()
    )
    direct = pa.Table.from_batches(list(get_source("mail_headers").read(path, context, ReadReport())))
    assert staged.num_rows > 0
    assert staged.cast(direct.schema).equals(direct)
    assert all(Path(name).is_relative_to(tmp_path / "staging" / "b1") for name in read.staged)


def test_an_executor_with_another_key_reads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMLENS_KEY", "6b" * 32)
    reads = reading._read_group(
        [_job(_mbox(tmp_path)), _job(tmp_path / "x.mbox", "b2")], _rules(EXECUTOR_KEY), str(tmp_path / "s")
    )
    assert [read.batch for read in reads] == ["b1", "b2"]
    assert all(read.staged == () for read in reads)
    assert not (tmp_path / "s").exists()
    with pytest.raises(ConfigError, match="another pseudonymisation key"):
        reads[0].raise_error()


def test_teeth_the_same_key_on_both_sides_passes_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMLENS_KEY", "6b" * 32)
    [read] = reading._read_group([_job(_mbox(tmp_path))], _rules("6b" * 32), str(tmp_path / "s"))
    assert read.error is None and read.staged


def test_an_executor_without_a_key_reads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEAMLENS_KEY", raising=False)
    monkeypatch.setenv("TEAMLENS_KEY_FILE", str(tmp_path / "no-such.key"))
    [read] = reading._read_group([_job(_mbox(tmp_path))], _rules(EXECUTOR_KEY), str(tmp_path / "s"))
    assert read.staged == () and read.error is not None
    with pytest.raises(ConfigError):
        read.raise_error()


def test_a_connector_error_comes_back_under_its_own_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMLENS_KEY", EXECUTOR_KEY)
    broken = tmp_path / "broken.csv"
    broken.write_text("Report Refresh Date,Nothing Expected\n2026-01-01,1\n", encoding="utf-8")
    job = reading.ReadJob(str(broken), "m365_email_activity", "b1")
    [read] = reading._read_group([job], _rules(EXECUTOR_KEY), str(tmp_path / "s"))
    assert read.error is not None and read.staged == ()
    with pytest.raises(InputFormatError) as raised:
        read.raise_error()
    assert type(raised.value).__name__ == read.error[0]
    assert raised.value.message == read.error[1] and "broken.csv" in raised.value.message


def test_no_jobs_start_no_spark_job() -> None:
    assert reading.read_files(cast(Any, None), [], _rules(EXECUTOR_KEY), Path("/nonexistent")) == {}

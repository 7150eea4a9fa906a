"""Folder ingest names every file it passes over and why, and refuses them in scripts.

A newcomer's folder of exports holds a usage report whose header was edited (so no connector
recognises it), a read-me, and a file with a very long name. Piped (as in a script or cron)
ingest is strict by default: it exits non-zero naming the file, and ingests nothing. With
``--no-strict`` it ingests the rest and names each file it passed over, in full, with the
reason. ``--source NAME`` reads a file with the named connector, which says what is wrong.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from teamlens.cli.app import console

from .flow_support import Org, build_org, run_cli

LONG = "EmailActivityUserDetail_" + "exported-by-the-night-job-of-finance_" * 4 + "2026-01-04.csv"


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Org:
    built = build_org(tmp_path, people=40, weeks=2)
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(built.ws.settings.data_dir))
    monkeypatch.setenv("TEAMLENS_KEY_FILE", str(built.ws.settings.key_file))
    monkeypatch.setenv("COLUMNS", "40")  # narrower than any name here: nothing may be cut to fit
    reports = sorted((built.exports / "m365").glob("EmailActivityUserDetail_*.csv"))
    edited = reports[0].read_text(encoding="utf-8").replace("Send Count", "Sent Count", 1)
    (built.exports / "m365" / LONG).write_text(edited, encoding="utf-8")
    return built


def test_piped_ingest_is_strict_names_the_file_and_ingests_nothing(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_cli(capsys, "ingest", str(org.exports))  # captured, so not a terminal
    assert code == 4
    assert str(org.exports / "m365" / LONG) in out
    assert "no connector recognises it" in out and "Nothing was ingested" in out
    assert "README.txt" not in out  # a read-me is never a reason to refuse
    assert org.ws.store.stats().batches == 0


def test_without_strict_the_rest_is_ingested_and_each_file_passed_over_is_named_in_full(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_cli(capsys, "ingest", "--no-strict", str(org.exports))
    assert code == 0, out
    lines = out.splitlines()
    long_path = str(org.exports / "m365" / LONG)
    assert f"passed over\t-\t0\t{long_path}" in lines  # one plain line per file, the path whole
    assert any(line.startswith(f"passed over: {long_path}: no connector recognises") for line in lines)
    assert f"passed over: {org.exports / 'README.txt'}: a read-me file, not an export" in lines
    assert "…" not in out.split("Next:")[0]  # Rich would have cut the name with an ellipsis
    assert org.ws.store.stats().batches > 0
    assert "Next:" in out and "teamlens release department-monthly -w " in out


def test_a_terminal_wraps_the_names_in_its_table_instead_of_cutting_them(
    org: Org, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "_force_terminal", True)  # Rich takes the capture for a terminal
    monkeypatch.setattr(console, "_width", 60)
    monkeypatch.setattr(console, "_color_system", None)
    code, out = run_cli(capsys, "ingest", "--no-strict", str(org.exports))
    assert code == 0, out
    table = "".join(line.strip("│┃ \n") for line in out.split("passed over:")[0].splitlines())
    assert LONG in table.replace(" ", "")  # folded over lines, every character kept
    assert "…" not in out.split("Next:")[0]


def test_source_names_the_connector_that_says_what_is_wrong(
    org: Org, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    edited = tmp_path / "edited.csv"
    shutil.copy(org.exports / "m365" / LONG, edited)
    code, out = run_cli(capsys, "ingest", "--source", "m365_email_activity", str(edited))
    assert code == 4
    assert "missing column 'Send Count'" in out
    code, out = run_cli(capsys, "ingest", "--source", "no_such_connector", str(edited))
    assert code == 2
    assert "m365_email_activity" in out and "hr_directory_csv" in out  # the names to choose from
    code, out = run_cli(capsys, "ingest", "--source", "hr_directory_csv", str(org.exports / "hr"))
    assert code == 0, out
    assert "ingested" in out

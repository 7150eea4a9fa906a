"""The coverage floor check `make test` runs: it fails naming the package, its figure and its floor."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from ..support.paths import ROOT


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coverage_floors", ROOT / "scripts" / "coverage_floors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(files: dict[str, tuple[int, int, int, int]]) -> dict[str, object]:
    """A coverage.py JSON report: path → (lines run, lines, branches taken, branches)."""
    summaries = {
        path: {
            "summary": {
                "covered_lines": run,
                "num_statements": lines,
                "covered_branches": taken,
                "num_branches": branches,
            }
        }
        for path, (run, lines, taken, branches) in files.items()
    }
    return {"files": summaries, "totals": {"percent_covered": 90.0}}


def run_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: dict[str, object]) -> tuple[int, str]:
    path = tmp_path / "coverage.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code = load_script().main(["coverage_floors.py", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_files_add_up_per_package_lines_and_branches_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_check(
        tmp_path,
        capsys,
        report(
            {
                "src/teamlens/governance/db.py": (90, 100, 10, 10),  # 100 of 110
                "src/teamlens/governance/ledger.py": (99, 100, 5, 10),  # 104 of 110: 204/220 = 92.7%
                "src/teamlens/store/fact_store.py": (86, 100, 0, 0),
                "src/teamlens/settings.py": (16, 20, 0, 0),  # a top-level module is its own package
                "src/teamlens/privacy/plan.py": (1, 100, 0, 0),
            }
        ),
    )
    assert code == 1
    assert "governance: 92.7% branch coverage is under its floor of 95%" in out
    assert "store" not in out.split("COVERAGE FLOOR FAILED", 1)[1]  # 86% meets 85%
    assert "settings: 80.0% branch coverage is under its floor of 85%" in out
    assert "privacy: 1.0% branch coverage is under its floor of 95%" in out


def test_every_package_at_its_floor_passes_and_a_new_package_needs_a_floor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    at_floor = {
        "src/teamlens/governance/db.py": (95, 100, 0, 0),
        "src/teamlens/web/app.py": (85, 100, 0, 0),
    }
    assert run_check(tmp_path, capsys, report(at_floor))[0] == 0
    code, out = run_check(tmp_path, capsys, report({**at_floor, "src/teamlens/reports/new.py": (1, 1, 0, 0)}))
    assert code == 1 and "reports: 100.0% — a new package: give it a floor" in out

"""Hold each package of teamlens to its branch-coverage floor, from coverage.py's JSON report.

Usage: ``python scripts/coverage_floors.py coverage.json`` (``make test`` runs it after pytest).
A package's figure counts its statements and branches together, as coverage.py's own total does:
(lines run + branches taken) / (lines + branches), over every file of the package. A top-level
module (``settings.py``) counts as a package of its own. Prints one line per package and exits 1
naming every package under its floor; a package with no floor (``None``) is reported only.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

#: The least branch coverage, in percent, each package must keep; None: measured, not held.
FLOORS: dict[str, float | None] = {
    "governance": 95.0,
    "privacy": 95.0,
    "services": 95.0,
    "domain": 85.0,
    "sources": 85.0,
    "store": 85.0,
    "pseudonymise": 85.0,
    "cli": 85.0,
    "web": 85.0,
    "synth": 85.0,
    "settings": 85.0,
    "errors": 85.0,
    "__init__": 85.0,
    "verify": 85.0,
    # The Spark tests skip without Java (a machine outside CI may lack it): held only where they ran.
    "spark": 85.0 if shutil.which("java") else None,
}


def package_of(path: str) -> str:
    """The package a measured file belongs to: ``src/teamlens/store/_merge.py`` → ``store``."""
    parts = Path(path).parts
    inside = parts[parts.index("teamlens") + 1 :]
    return inside[0] if len(inside) > 1 else Path(inside[0]).stem


def figures(report: dict[str, object]) -> dict[str, tuple[int, int]]:
    """Per package: (lines run + branches taken, lines + branches)."""
    totals: dict[str, tuple[int, int]] = {}
    files = report["files"]
    assert isinstance(files, dict)
    for path, data in files.items():
        summary = data["summary"]
        hit = summary["covered_lines"] + summary.get("covered_branches", 0)
        total = summary["num_statements"] + summary.get("num_branches", 0)
        done, all_ = totals.get(package_of(path), (0, 0))
        totals[package_of(path)] = (done + hit, all_ + total)
    return totals


def check(totals: dict[str, tuple[int, int]]) -> tuple[list[str], list[str]]:
    """The report's lines, and the failures (a package under its floor, or a package with no floor)."""
    lines, failures = [], []
    for package in sorted(totals, key=lambda name: (FLOORS.get(name) is None, name)):
        hit, total = totals[package]
        percent = 100.0 * hit / total if total else 100.0
        if package not in FLOORS:
            failures.append(f"{package}: {percent:.1f}% — a new package: give it a floor in {__file__}")
            floor_text = "no floor"
        elif (floor := FLOORS[package]) is None:
            floor_text = "not held here"
        else:
            floor_text = f"floor {floor:.0f}%"
            if percent < floor:
                failures.append(
                    f"{package}: {percent:.1f}% branch coverage is under its floor of {floor:.0f}% — "
                    "add tests for the behaviour its uncovered lines carry (`coverage report -m` lists them)"
                )
        lines.append(f"  {package:<14}{percent:6.1f}%   {floor_text}")
    return lines, failures


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    report = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    lines, failures = check(figures(report))
    total = report["totals"]["percent_covered"]
    print(f"branch coverage by package (all of teamlens: {total:.1f}%):")
    print("\n".join(lines))
    for failure in failures:
        print(f"COVERAGE FLOOR FAILED  {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

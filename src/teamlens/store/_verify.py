"""Health checks of the store against its own invariants, reported as plain sentences.

Each problem names a file (relative to the store root), a column or a count, never a value:
``verify`` output goes to admins and logs, who may not see anyone's data.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from teamlens.domain import DIRECTORY_SCHEMA, EDGE_SCHEMA, FACT_SCHEMA
from teamlens.errors import StoreError
from teamlens.store._duck import connect, read_schema, read_table, rows, scan
from teamlens.store._ingest import overlapping_rows
from teamlens.store._manifest import Manifest, load

# Facts in the wrong month file would be skipped by aggregate()'s month pruning.
_MISPLACED_SQL = """
SELECT count(*) FROM month_file
WHERE strftime(day - CAST(isodow(day) - 1 AS INTEGER), '%Y-%m') <> $month
"""

_DUPLICATE_KEYS_SQL = """
SELECT count(*) FROM (
    SELECT person, source, metric, day, days FROM month_file
    GROUP BY person, source, metric, day, days HAVING count(*) > 1
)
"""

_BAD_DAYS_SQL = """
SELECT count(*) FROM month_file
WHERE days NOT IN (1, 7) OR (days = 7 AND isodow(day) <> 1)
"""


def _schema_problem(name: str, path: Path, expected: pa.Schema) -> tuple[str | None, bool]:
    """A problem with the file's presence or columns, and whether its contents can be checked."""
    if not path.is_file():
        return f"{name}: named by the manifest but missing", False
    try:
        schema = read_schema(path)
    except (pa.ArrowException, OSError):
        return f"{name}: not a readable Parquet file", False
    found = {field.name: field.type for field in schema}
    wanted = {field.name: field.type for field in expected}
    if found != wanted:
        missing = sorted(set(wanted) - set(found))
        extra = sorted(set(found) - set(wanted))
        retyped = sorted(col for col in set(found) & set(wanted) if found[col] != wanted[col])
        return (
            f"{name}: columns differ from the expected schema "
            f"(missing: {missing or 'none'}; unexpected: {extra or 'none'}; wrong type: {retyped or 'none'})",
            False,
        )
    return None, True


def _month_problems(con: duckdb.DuckDBPyConnection, name: str, path: Path, month: str) -> list[str]:
    scan(con, [path]).create_view("month_file")
    problems = []
    misplaced = rows(con, _MISPLACED_SQL, {"month": month})[0][0]
    if misplaced:
        problems.append(f"{name}: {misplaced} row(s) belong to another month")
    duplicated = rows(con, _DUPLICATE_KEYS_SQL)[0][0]
    if duplicated:
        problems.append(f"{name}: {duplicated} fact key(s) appear more than once")
    bad_days = rows(con, _BAD_DAYS_SQL)[0][0]
    if bad_days:
        problems.append(f"{name}: {bad_days} row(s) have a period that is not a day or a Monday-based week")
    return problems


def _directory_problems(name: str, path: Path) -> list[str]:
    table = read_table(path, columns=["person", "valid_from", "valid_to"])
    table = table.sort_by([("person", "ascending"), ("valid_from", "ascending")])
    overlaps = overlapping_rows(table)
    return [f"{name}: {overlaps} row(s) overlap the same person's previous row"] if overlaps else []


def _edge_problems(name: str, path: Path, month: str) -> list[str]:
    table = read_table(path, columns=["person", "partner", "day", "weight"])
    days = table.column("day").to_pylist()
    problems = []
    misplaced = sum(f"{day.year:04d}-{day.month:02d}" != month for day in days)
    if misplaced:
        problems.append(f"{name}: {misplaced} edge row(s) belong to another month")
    weights = table.column("weight").to_pylist()
    bad = sum(not weight > 0 for weight in weights)
    if bad:
        problems.append(f"{name}: {bad} edge row(s) have a weight that is not positive")
    people, partners = table.column("person").to_pylist(), table.column("partner").to_pylist()
    if any(a == b for a, b in zip(people, partners, strict=True)):
        problems.append(f"{name}: edge row(s) join a person to themselves")
    return problems


def verify_store(root: Path) -> list[str]:
    """Every problem found in the store under ``root`` (the caller holds a read lease)."""
    try:
        manifest: Manifest = load(root)
    except StoreError as exc:
        return [exc.message]
    problems: list[str] = []
    with connect(root) as con:
        for month, relative in sorted(manifest.months.items()):
            problem, readable = _schema_problem(relative, root / relative, FACT_SCHEMA)
            problems.extend([problem] if problem else [])
            if readable:
                try:
                    problems.extend(_month_problems(con, relative, root / relative, month))
                except duckdb.Error:
                    problems.append(f"{relative}: its rows cannot be read")
    for month, relative in sorted(manifest.edges.items()):
        problem, readable = _schema_problem(relative, root / relative, EDGE_SCHEMA)
        problems.extend([problem] if problem else [])
        if readable:
            try:
                problems.extend(_edge_problems(relative, root / relative, month))
            except (pa.ArrowException, OSError):
                problems.append(f"{relative}: its rows cannot be read")
    if manifest.directory is not None:
        name = manifest.directory
        problem, readable = _schema_problem(name, root / name, DIRECTORY_SCHEMA)
        problems.extend([problem] if problem else [])
        if readable:
            try:
                problems.extend(_directory_problems(name, root / name))
            except (pa.ArrowException, OSError):
                problems.append(f"{name}: its rows cannot be read")
    return problems

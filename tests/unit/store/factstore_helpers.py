"""Builders, an independent pure-Python aggregation and state snapshots for the fact store tests.

The reference aggregation deliberately shares no code with ``teamlens.store``: it loops over
rows in Python, the way the privacy model is written down, so that a disagreement means a bug.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA, HEADCOUNT, Window, monday_of


class Fact(NamedTuple):
    person: str
    day: dt.date
    days: int
    metric: str
    value: int
    source: str

    @property
    def key(self) -> tuple[str, str, str, dt.date, int]:
        return (self.person, self.source, self.metric, self.day, self.days)


class Placement(NamedTuple):
    person: str
    valid_from: dt.date
    valid_to: dt.date | None
    team: str | None = None
    department: str | None = None
    division: str | None = None
    location: str | None = None
    manager: str | None = None
    time_zone: str | None = None
    work_start: str | None = None
    work_end: str | None = None


def facts_table(facts: Iterable[Fact]) -> pa.Table:
    rows = list(facts)
    return pa.table({name: [getattr(fact, name) for fact in rows] for name in FACT_SCHEMA.names}).cast(
        FACT_SCHEMA
    )


def directory_table(placements: Iterable[Placement]) -> pa.Table:
    rows = list(placements)
    return pa.table(
        {
            name: pa.array([getattr(row, name) for row in rows], DIRECTORY_SCHEMA.field(name).type)
            for name in DIRECTORY_SCHEMA.names
        }
    ).cast(DIRECTORY_SCHEMA)


def upserted(*commits: Sequence[Fact]) -> list[Fact]:
    """The facts a store should hold after these commits: the last value of each key wins."""
    latest: dict[tuple[str, str, str, dt.date, int], Fact] = {}
    for facts in commits:
        for fact in facts:
            latest[fact.key] = fact
    return sorted(latest.values())


def reference_aggregate(
    facts: Sequence[Fact],
    directory: Sequence[Placement],
    *,
    level: str,
    windows: Sequence[Window],
    bounds: Mapping[tuple[str, str], int],
    headcount: bool = True,
    exclude: Collection[str] = (),
) -> list[dict[str, Any]]:
    """The aggregation as the privacy model states it, row by row."""
    out: dict[tuple[str, str, str], int] = {}
    for window in set(windows):
        weeks = set(window.weeks)
        members: dict[str, str] = {}
        for row in directory:
            if row.person in exclude:
                continue
            if row.valid_from <= window.start and (row.valid_to is None or window.start < row.valid_to):
                group = "Organisation" if level == "organisation" else getattr(row, level)
                if group is not None:
                    members[row.person] = group
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for fact in facts:
            if monday_of(fact.day) in weeks:
                sums[(fact.person, fact.metric)] += fact.value
                if level == "organisation" and fact.person not in exclude:
                    members[fact.person] = "Organisation"
        for group in set(members.values()):
            people = [person for person, placed in members.items() if placed == group]
            if headcount:
                out[(group, window.key, HEADCOUNT)] = len(people)
            for (key, metric), bound in bounds.items():
                if key == window.key:
                    out[(group, key, metric)] = sum(
                        min(max(sums.get((person, metric), 0), 0), bound) for person in people
                    )
    return [
        {"group": group, "window": key, "metric": metric, "total": total}
        for (group, key, metric), total in sorted(
            out.items(), key=lambda item: (item[0][1], item[0][0], item[0][2])
        )
    ]


def _manifest(root: Path) -> dict[str, Any]:
    path = root / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def stored_facts(root: Path) -> list[Fact]:
    """Every fact the manifest's files hold, read straight from Parquet (not through the store)."""
    manifest = _manifest(root)
    facts: list[Fact] = []
    for relative in manifest.get("months", {}).values():
        facts.extend(Fact(**row) for row in pq.read_table(root / relative).to_pylist())
    return sorted(facts)


def stored_directory(root: Path) -> list[Placement]:
    manifest = _manifest(root)
    if not manifest.get("directory"):
        return []
    return sorted(Placement(**row) for row in pq.read_table(root / manifest["directory"]).to_pylist())


def snapshot(root: Path) -> tuple[list[Fact], list[Placement], list[str]]:
    """What a store holds: facts, directory and committed batch hashes (independent of file names).

    Read straight from the manifest and the Parquet files, so taking it changes nothing.
    """
    return stored_facts(root), stored_directory(root), sorted(_manifest(root).get("batches", {}))


def data_files(root: Path) -> set[str]:
    """Every file under the store root except the lock files, relative to the root."""
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.name not in {".lock", ".readers.lock"}
    }


def expected_files(root: Path) -> set[str]:
    """The files a clean store consists of: the manifest and what it names."""
    manifest = _manifest(root)
    named = set(manifest["months"].values())
    if manifest["directory"]:
        named.add(manifest["directory"])
    return {"manifest.json", *named}


def _csv(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink)
    return sink.getvalue()


def fingerprint(root: Path) -> str:
    """A digest of everything a store holds, cheap enough for stores of a few hundred thousand rows."""
    manifest = _manifest(root)
    digest = hashlib.sha256()
    parts = [pq.read_table(root / relative) for relative in manifest.get("months", {}).values()]
    if parts:
        facts = pa.concat_tables(parts).sort_by([(name, "ascending") for name in FACT_SCHEMA.names])
        digest.update(_csv(facts))
    if manifest.get("directory"):
        directory = pq.read_table(root / manifest["directory"])
        digest.update(_csv(directory.sort_by([("person", "ascending"), ("valid_from", "ascending")])))
    digest.update(json.dumps(sorted(manifest.get("batches", {}))).encode())
    return digest.hexdigest()

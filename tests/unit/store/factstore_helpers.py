"""Builders, an independent pure-Python aggregation and state snapshots for the fact store tests.

The reference aggregation deliberately shares no code with ``teamlens.store``: it loops over
rows in Python, the way the privacy model is written down, so that a disagreement means a bug.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from teamlens.domain import DIRECTORY_SCHEMA, EDGE_SCHEMA, FACT_SCHEMA, HEADCOUNT, monday_of


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


HIDDEN = "\x1f"


def reference_keys(row: Placement | None, levels: Sequence[str]) -> dict[str, str]:
    """A person's key at each level: their group, or the hidden key naming their nearest coarser group."""
    values = {
        name: getattr(row, name) if row is not None else None
        for name in ("division", "department", "team", "location")
    }
    keys = {}
    for level in levels:
        if level == "organisation":
            keys[level] = "Organisation"
        elif level == "location":
            keys[level] = values["location"] or HIDDEN
        else:
            chain = ["division", "department", "team"]
            coarser = chain[: chain.index(level)]
            nearest = next((f"{name}={values[name]}" for name in reversed(coarser) if values[name]), "")
            keys[level] = values[level] or HIDDEN + nearest
    return keys


def reference_block(
    facts: Sequence[Fact],
    directory: Sequence[Placement],
    *,
    levels: Sequence[str],
    weeks: Sequence[dt.date],
    clips: Mapping[str, tuple[float, int]],
    headcount: bool = True,
    exclude: Collection[str] = (),
) -> list[dict[str, Any]]:
    """One block's aggregation as the privacy model states it, row by row (see ``store._aggregate``)."""
    inside = set(weeks)
    weekly: dict[tuple[str, dt.date, str], int] = defaultdict(int)
    for fact in facts:
        if monday_of(fact.day) in inside and fact.metric in clips:
            weekly[(fact.person, monday_of(fact.day), fact.metric)] += fact.value
    values = {key: max(value, 0) for key, value in weekly.items()}
    norms: dict[tuple[str, str], float] = defaultdict(float)
    for (person, _, metric), value in values.items():
        norms[(person, metric)] += float(value) * value
    out: dict[tuple[str, str, dt.date, str], int] = defaultdict(int)
    for week in sorted(inside):
        placed: dict[str, Placement] = {}
        for row in sorted(directory, key=lambda item: item.valid_from):
            if row.valid_from <= week and (row.valid_to is None or week < row.valid_to):
                placed[row.person] = row
        present: dict[str, Placement | None] = dict(placed)
        for person, day, _ in weekly:
            if day == week and person not in present:
                present[person] = None
        for person, row in present.items():
            if person in exclude:
                continue
            keys = reference_keys(row, levels)
            if headcount:
                for level, key in keys.items():
                    out[(level, key, min(inside), HEADCOUNT)] += 1
            for metric, (bound, scale) in clips.items():
                value = values.get((person, week, metric), 0)
                if value <= 0:
                    continue
                norm = norms[(person, metric)] ** 0.5
                # The same float operations in the same order as the store's query.
                clipped = (
                    value * scale
                    if norm <= bound
                    else math.floor(value * scale * (bound / norm) * (1 - 1e-12))
                )
                for level, key in keys.items():
                    out[(level, key, week, metric)] += clipped
    return [
        {"level": level, "group": group, "week": week, "metric": metric, "total": total}
        for (level, group, week, metric), total in sorted(
            out.items(), key=lambda item: (item[0][0], item[0][3], item[0][1], item[0][2])
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
    named = set(manifest["months"].values()) | set(manifest.get("edges", {}).values())
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
    edges = [pq.read_table(root / relative) for relative in manifest.get("edges", {}).values()]
    if edges:
        digest.update(
            _csv(pa.concat_tables(edges).sort_by([(name, "ascending") for name in EDGE_SCHEMA.names]))
        )
    if manifest.get("directory"):
        directory = pq.read_table(root / manifest["directory"])
        digest.update(_csv(directory.sort_by([("person", "ascending"), ("valid_from", "ascending")])))
    digest.update(json.dumps(sorted(manifest.get("batches", {}))).encode())
    return digest.hexdigest()


def edges_table(rows: list[tuple[str, str, dt.date, float, str]]) -> pa.Table:
    """Collaboration edge rows (person, partner, day, weight, kind) as an ``EDGE_SCHEMA`` table."""
    names = EDGE_SCHEMA.names
    return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows], schema=EDGE_SCHEMA)

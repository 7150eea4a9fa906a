"""The collaboration network's edge rows in the store: upserted per person-day-kind, aged by
retention (both hands of its clock), erased at both ends, and read only as clipped group totals
with objectors removed at both ends. (Crashes at every step: ``test_store_atomicity``.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from teamlens.domain import GroupLevel
from teamlens.store import FactStore
from teamlens.store._collaboration import read_edges

from .factstore_helpers import Placement, directory_table, edges_table

D = dt.date
MARCH = [D(2026, 3, 2), D(2026, 3, 9)]


def _edges(store: FactStore) -> list[tuple[str, str, dt.date, float, str]]:
    files = sorted((store.root / "edges").rglob("*.parquet"))
    table = pa.concat_tables([read_edges(path) for path in files]) if files else None
    if table is None:
        return []
    return sorted(tuple(row.values()) for row in table.to_pylist())  # type: ignore[misc]


@pytest.fixture
def store(tmp_path: Path) -> FactStore:
    store = FactStore(tmp_path / "facts")
    store.commit(
        content_hash="one",
        source="activity",
        label="one",
        directory=directory_table(
            [
                Placement("ann", D(2025, 1, 1), None, department="A"),
                Placement("bob", D(2025, 1, 1), None, department="B"),
                Placement("cat", D(2025, 1, 1), None, department="B"),
            ]
        ),
        edges=edges_table(
            [
                ("ann", "bob", D(2026, 1, 6), 2.0, "email"),
                ("ann", "cat", D(2026, 3, 3), 1.0, "email"),
                ("ann", "cat", D(2026, 3, 3), 30.0, "meeting"),
                ("bob", "ann", D(2026, 3, 4), 0.5, "chat"),
                ("cat", "bob", D(2026, 3, 10), 3.0, "email"),
            ]
        ),
    )
    return store


def test_a_later_ingestion_replaces_a_persons_day_of_one_kind_and_nothing_else(store: FactStore) -> None:
    store.commit(
        content_hash="two",
        source="activity",
        label="two",
        edges=edges_table([("ann", "bob", D(2026, 3, 3), 4.0, "email")]),
    )
    rows = _edges(store)
    assert ("ann", "cat", D(2026, 3, 3), 1.0, "email") not in rows  # ann's emails of 3 March: replaced
    assert ("ann", "bob", D(2026, 3, 3), 4.0, "email") in rows
    assert ("ann", "cat", D(2026, 3, 3), 30.0, "meeting") in rows  # another kind stays
    assert len(rows) == 5
    assert store.commit(content_hash="two", source="activity", label="two").already_present


def test_retention_ages_edges_past_the_cutoff_and_in_released_ranges(store: FactStore) -> None:
    store.expire(D(2026, 2, 1), released=[(D(2026, 3, 9), D(2026, 3, 16))])
    assert [row[2] for row in _edges(store)] == [D(2026, 3, 3), D(2026, 3, 3), D(2026, 3, 4)]
    assert not (store.root / "edges" / "2026-01").exists() or not any(
        (store.root / "edges" / "2026-01").iterdir()
    )


def test_erasure_removes_a_persons_edges_theirs_and_those_towards_them(store: FactStore) -> None:
    assert store.erase_person("bob") >= 3  # their edge rows and their directory row
    rows = _edges(store)
    assert rows == [
        ("ann", "cat", D(2026, 3, 3), 1.0, "email"),
        ("ann", "cat", D(2026, 3, 3), 30.0, "meeting"),
    ]


def test_the_network_is_read_only_as_group_totals_and_objectors_leave_both_ends(store: FactStore) -> None:
    kinds = ("chat", "email")
    totals = store.network_block(level=GroupLevel.DEPARTMENT, weeks=MARCH, kinds=kinds, bound=100.0, scale=4)
    assert totals.column_names == ["level", "source", "target", "total"]
    assert {(r["source"], r["target"]): r["total"] for r in totals.to_pylist()} == {
        ("A", "B"): 4,
        ("B", "A"): 2,
        ("B", "B"): 12,
    }
    without = store.network_block(
        level=GroupLevel.DEPARTMENT, weeks=MARCH, kinds=kinds, bound=100.0, scale=4, exclude={"ann"}
    )
    assert {(r["source"], r["target"]) for r in without.to_pylist()} == {("B", "B")}


def test_verify_checks_the_edge_files_and_names_no_one(store: FactStore) -> None:
    assert store.verify() == []
    path = next((store.root / "edges" / "2026-03").glob("*.parquet"))
    table = read_edges(path)
    pq.write_table(table.set_column(3, "weight", pa.array([-1.0] * table.num_rows)), path)
    problems = store.verify()
    assert problems == [
        f"{path.relative_to(store.root).as_posix()}: 4 edge row(s) have a weight that is not positive"
    ]
    assert not any(name in " ".join(problems) for name in ("ann", "bob", "cat"))


def test_a_worker_sees_their_own_collaboration_per_day_and_kind_never_whom(store: FactStore) -> None:
    assert store.person_edges("ann") == [
        {"day": D(2026, 1, 6), "kind": "email", "colleagues": 1, "weight": 2.0},
        {"day": D(2026, 3, 3), "kind": "email", "colleagues": 1, "weight": 1.0},
        {"day": D(2026, 3, 3), "kind": "meeting", "colleagues": 1, "weight": 30.0},
    ]
    # bob's rows are what he sent; what others sent him is theirs and is not in his export.
    assert store.person_edges("bob") == [
        {"day": D(2026, 3, 4), "kind": "chat", "colleagues": 1, "weight": 0.5}
    ]
    assert "ann" not in str(store.person_edges("bob")) and store.person_edges("nobody") == []


def test_a_key_rotation_carries_edges_re_keyed_at_both_ends(store: FactStore, tmp_path: Path) -> None:
    from teamlens.store._manifest import load
    from teamlens.store._rekey import rekeyed_copy

    old, new = pa.array(["ann", "bob"]), pa.array(["ANN", "BOB"])  # cat is a leaver
    target = tmp_path / "rekeyed"
    FactStore(target)
    rekeyed_copy(store.root, load(store.root), target, old, new, D(2026, 2, 1), 10.0)
    assert _edges(FactStore(target)) == [("BOB", "ANN", D(2026, 3, 4), 0.5, "chat")]

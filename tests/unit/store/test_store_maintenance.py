"""Retention, erasure, a worker's own data, and verify()'s health report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA
from teamlens.errors import StoreError
from teamlens.store import Expired, FactStore

from .factstore_helpers import Fact, Placement, directory_table, facts_table, stored_directory, stored_facts

D = dt.date
CANARY = "canary-pseudonym-5e1d22"
CANARY_VALUE = 876_543_219


def fact(person: str, day: dt.date, value: int, metric: str = "meeting_minutes") -> Fact:
    return Fact(person, day, 1, metric, value, "m365")


FACTS = [
    fact("ann", D(2025, 12, 15), 1),
    fact("ann", D(2026, 1, 2), 2),  # stored under 2025-12 (week of Monday 2025-12-29)
    fact("bob", D(2026, 1, 5), 3),
    fact("ann", D(2026, 1, 20), 4),
    fact(CANARY, D(2026, 1, 21), CANARY_VALUE),
    fact("bob", D(2026, 2, 10), 5),
]
DIRECTORY = [
    Placement("ann", D(2025, 1, 1), D(2026, 1, 1), team="A"),
    Placement("ann", D(2026, 1, 1), None, team="B"),
    Placement(CANARY, D(2025, 1, 1), None, team="A"),
]


@pytest.fixture
def store(tmp_path: Path) -> FactStore:
    store = FactStore(tmp_path)
    store.commit(
        content_hash="h1",
        source="m365",
        label="t",
        facts=facts_table(FACTS),
        directory=directory_table(DIRECTORY),
    )
    return store


def months(root: Path) -> dict[str, str]:
    return json.loads((root / "manifest.json").read_text())["months"]  # type: ignore[no-any-return]


def test_retention_deletes_exactly_the_facts_before_the_day(store: FactStore) -> None:
    root = store.root
    assert store.expire(D(2026, 1, 5)) == Expired(facts_past_retention=2, directory_rows=1)
    assert stored_facts(root) == sorted(item for item in FACTS if item.day >= D(2026, 1, 5))
    assert "2025-12" not in months(root)  # emptied months disappear
    # Only the placement that ended before the cut-off goes: the others still place someone.
    assert stored_directory(root) == sorted(DIRECTORY[1:])
    assert store.expire(D(2026, 1, 21)).facts == 2
    assert stored_facts(root) == sorted(item for item in FACTS if item.day >= D(2026, 1, 21))
    assert months(root)["2026-02"] == "months/2026-02/gen-1.parquet"  # untouched months are not rewritten
    assert stored_directory(root) == sorted(DIRECTORY[1:])


def test_retention_deletes_the_facts_of_released_ranges_however_recent(store: FactStore) -> None:
    released = [
        (D(2026, 1, 19), D(2026, 1, 21)),
        (D(2026, 1, 21), D(2026, 1, 26)),
        (D(2026, 2, 9), D(2026, 2, 10)),
    ]
    assert store.expire(D(2025, 12, 1), released) == Expired(facts_released=2)
    kept = [item for item in FACTS if not D(2026, 1, 19) <= item.day < D(2026, 1, 26)]
    assert stored_facts(store.root) == sorted(kept)  # 2026-02-10 lies just past its range's end
    assert stored_directory(store.root) == sorted(DIRECTORY)
    # The two hands are counted apart: a fact past the cut-off is not counted again as released.
    assert store.expire(D(2026, 1, 6), [(D(2025, 12, 1), D(2026, 3, 1))]) == Expired(3, 1, 1)
    assert stored_facts(store.root) == []


def test_retention_with_nothing_to_delete_changes_nothing(store: FactStore) -> None:
    generation = store.stats().generation
    assert store.expire(D(2025, 12, 1)).facts == 0
    assert store.stats().generation == generation


def test_erasure_removes_every_fact_and_directory_row_of_one_person(store: FactStore) -> None:
    root = store.root
    assert store.erase_person("ann") == 3 + 2
    assert stored_facts(root) == sorted(item for item in FACTS if item.person != "ann")
    assert stored_directory(root) == [row for row in DIRECTORY if row.person != "ann"]
    assert store.person_facts("ann").num_rows == 0
    assert store.person_directory("ann").num_rows == 0
    assert store.erase_person("ann") == 0


def test_after_erasure_no_file_in_the_store_holds_the_pseudonym(store: FactStore) -> None:
    def files_mentioning(name: str) -> list[Path]:
        return [
            path for path in store.root.rglob("*") if path.is_file() and name.encode() in path.read_bytes()
        ]

    assert files_mentioning(CANARY)  # teeth: the pseudonym is findable in the files while stored
    store.erase_person(CANARY)
    assert files_mentioning(CANARY) == []
    assert [row.person for row in stored_facts(store.root)].count("bob") == 2


def test_a_worker_gets_their_own_facts_and_directory_rows(store: FactStore) -> None:
    facts = store.person_facts("ann")
    assert facts.schema == FACT_SCHEMA
    assert [Fact(**row) for row in facts.to_pylist()] == [item for item in FACTS if item.person == "ann"]
    directory = store.person_directory("ann")
    assert directory.schema == DIRECTORY_SCHEMA
    assert [Placement(**row) for row in directory.to_pylist()] == DIRECTORY[:2]
    assert store.person_facts("nobody").num_rows == 0


def test_a_healthy_store_verifies_clean(store: FactStore) -> None:
    assert store.verify() == []
    assert FactStore(store.root / "empty").verify() == []


def _rewrite_month(store: FactStore, month: str, table: pa.Table) -> str:
    relative = months(store.root)[month]
    pq.write_table(table, store.root / relative)
    return relative


def test_verify_reports_a_missing_file(store: FactStore) -> None:
    relative = months(store.root)["2026-01"]
    (store.root / relative).unlink()
    assert store.verify() == [f"{relative}: named by the manifest but missing"]


def test_verify_reports_a_schema_mismatch(store: FactStore) -> None:
    relative = _rewrite_month(store, "2026-01", pa.table({"person": [CANARY], "value": [CANARY_VALUE]}))
    problems = store.verify()
    assert len(problems) == 1
    assert problems[0].startswith(f"{relative}: columns differ")
    assert "'day'" in problems[0]


def test_verify_reports_duplicates_and_misplaced_rows_without_personal_data(store: FactStore) -> None:
    bad = facts_table(
        [fact(CANARY, D(2026, 1, 21), CANARY_VALUE)] * 2 + [fact(CANARY, D(2026, 3, 3), CANARY_VALUE)]
    )
    relative = _rewrite_month(store, "2026-01", bad)
    problems = store.verify()
    assert problems == [
        f"{relative}: 1 row(s) belong to another month",
        f"{relative}: 1 fact key(s) appear more than once",
    ]
    assert all(CANARY not in problem and str(CANARY_VALUE) not in problem for problem in problems)


def test_verify_reports_an_unreadable_file_and_a_damaged_manifest(store: FactStore) -> None:
    relative = months(store.root)["2026-02"]
    (store.root / relative).write_bytes(b"not parquet " + CANARY.encode())
    assert store.verify() == [f"{relative}: not a readable Parquet file"]
    (store.root / "manifest.json").write_text("{ broken")
    problems = store.verify()
    assert len(problems) == 1
    assert "not valid JSON" in problems[0]


def test_verify_reports_overlapping_directory_rows(store: FactStore) -> None:
    manifest = json.loads((store.root / "manifest.json").read_text())
    overlapping = directory_table([*DIRECTORY, Placement(CANARY, D(2025, 6, 1), None, team="B")])
    pq.write_table(overlapping, store.root / manifest["directory"])
    problems = store.verify()
    assert problems == [f"{manifest['directory']}: 1 row(s) overlap the same person's previous row"]


def test_a_query_over_a_damaged_file_fails_without_quoting_the_data(store: FactStore) -> None:
    relative = months(store.root)["2026-01"]
    (store.root / relative).write_bytes(b"PAR1" + CANARY.encode() + b"PAR1")
    with pytest.raises(StoreError) as caught:
        store.person_facts("ann")
    assert CANARY not in str(caught.value)
    assert "verify" in caught.value.hint


def test_a_manifest_pointing_outside_the_store_is_refused(store: FactStore) -> None:
    manifest = json.loads((store.root / "manifest.json").read_text())
    manifest["months"]["2026-01"] = "../../etc/passwd"
    (store.root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StoreError) as caught:
        store.stats()
    assert "outside the store" in caught.value.message


def test_reading_a_store_with_a_missing_file_raises_a_store_error_with_a_hint(store: FactStore) -> None:
    (store.root / months(store.root)["2026-01"]).unlink()
    with pytest.raises(StoreError) as caught:
        store.stats()
    assert "verify" in caught.value.hint

"""A key rotation's store copy: stayers re-keyed, leavers and the past period left out, new cipher (R35)."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pyarrow as pa
import pytest

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA
from teamlens.errors import StoreError
from teamlens.store import FactStore, rekeyed_copy, source_locked

D = dt.date
SINCE = D(2026, 1, 5)


def facts() -> pa.Table:
    rows = [
        (person, day, metric, value)
        for person in ("old-ann", "old-bob", "old-cat")
        for day in (D(2025, 12, 29), D(2026, 1, 5), D(2026, 2, 2))
        for metric, value in (("meeting_minutes", 60), ("emails_sent", 3))
    ]
    return pa.Table.from_pylist(
        [{"person": p, "day": d, "days": 7, "metric": m, "value": v, "source": "t"} for p, d, m, v in rows],
        schema=FACT_SCHEMA,
    )


def directory() -> pa.Table:
    rows = [("old-ann", D(2025, 12, 1), D(2026, 1, 5), "A"), ("old-ann", D(2026, 1, 5), None, "B"),
            ("old-bob", D(2025, 12, 1), None, "A"), ("old-cat", D(2025, 12, 1), None, "A")]  # fmt: skip
    return pa.Table.from_pylist(
        [{"person": p, "valid_from": f, "valid_to": t, "team": team, "department": "D", "division": None,
          "location": None} for p, f, t, team in rows],
        schema=DIRECTORY_SCHEMA,
    )  # fmt: skip


def test_the_copy_holds_only_new_pseudonyms_of_stayers_from_the_period_on(tmp_path: Path) -> None:
    old_key, new_key = secrets.token_bytes(32), secrets.token_bytes(32)
    source = FactStore(tmp_path / "facts", encryption_key=old_key)
    source.commit(content_hash="h1", source="test", label="one", facts=facts(), directory=directory())
    target = tmp_path / "facts.rotating"
    FactStore(target, encryption_key=new_key)
    old, new = pa.array(["old-ann", "old-bob"]), pa.array(["new-ann", "new-bob"])  # cat left
    with source_locked(source.root, 5.0) as manifest:
        copied = rekeyed_copy(source.root, manifest, target, old, new, SINCE, 5.0)
    assert (copied.facts, copied.facts_before_period, copied.facts_of_leavers) == (8, 6, 4)
    assert (copied.directory_rows, copied.directory_rows_dropped) == (2, 2)
    rekeyed = FactStore(target, encryption_key=new_key)
    assert rekeyed.person_facts("old-ann").num_rows == 0 and rekeyed.person_facts("new-cat").num_rows == 0
    assert {r["day"] for r in rekeyed.person_facts("new-ann").to_pylist()} == {D(2026, 1, 5), D(2026, 2, 2)}
    assert [r["team"] for r in rekeyed.person_directory("new-ann").to_pylist()] == ["B"]
    assert rekeyed.batches.keys() == {"h1"}  # an export ingested before is still recognised
    assert rekeyed.verify() == []
    # The copy is encrypted under the new key: the old key cannot open it (the teeth).
    with pytest.raises(StoreError):
        FactStore(target, encryption_key=old_key).person_facts("new-ann")


def test_without_a_period_every_fact_of_a_stayer_is_carried(tmp_path: Path) -> None:
    source = FactStore(tmp_path / "facts")
    source.commit(content_hash="h1", source="test", label="one", facts=facts(), directory=directory())
    FactStore(tmp_path / "copy")
    with source_locked(source.root, 5.0) as manifest:
        copied = rekeyed_copy(source.root, manifest, tmp_path / "copy", pa.array(["old-bob"]),
                              pa.array(["new-bob"]), None, 5.0)  # fmt: skip
    assert (copied.facts, copied.facts_before_period, copied.facts_of_leavers) == (6, 0, 12)

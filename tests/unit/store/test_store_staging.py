"""Staging by person number: encoded person columns, month files sorted by pseudonym, last row wins.

The store stages each pseudonym as a small integer and sorts a new month by the pseudonym's rank
(``_ingest.PEOPLE_FILE``, ``_merge._NEW_MONTH_SQL``). These tests hold it to what the store
promised before: the same month files, row for row, whether a connector hands the person column
over as strings or dictionary-encoded, in plain and encrypted stores; rows sorted by (person,
metric, day, days, source); the last of two rows with one key kept. A teeth case sorts by arrival
number instead of rank and is caught.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from teamlens.errors import StoreError
from teamlens.store import FactStore, _merge
from teamlens.store._duck import read_table

from .factstore_helpers import Fact, facts_table

KEY = bytes(range(32))
ORDER = ("person", "metric", "day", "days", "source")


def _facts() -> list[Fact]:
    """Facts of 40 people over two store months, three metrics, in a shuffled arrival order."""
    shuffle = random.Random(7)
    people = [f"{shuffle.getrandbits(64):016x}" for _ in range(40)]
    facts = [
        Fact(person, dt.date(2024, 1, 29) + dt.timedelta(days=day), 1, metric, 1 + n, "m365")
        for n, person in enumerate(people)
        for day in range(0, 14, 3)
        for metric in ("emails_sent", "emails_read", "meeting_minutes")
    ]
    shuffle.shuffle(facts)
    return facts


def _batches(facts: list[Fact], *, encoded: bool) -> Iterator[pa.RecordBatch]:
    """``facts`` in batches of 50; encoded, each batch over its own shuffled dictionary with spare names."""
    shuffle = random.Random(11)
    for start in range(0, len(facts), 50):
        batch = facts_table(facts[start : start + 50]).to_batches()[0]
        if encoded:
            names = [*sorted(set(batch.column("person").to_pylist())), f"unused-{start}"]
            shuffle.shuffle(names)
            where = {name: i for i, name in enumerate(names)}
            person = pa.DictionaryArray.from_arrays(
                pa.array([where[name] for name in batch.column("person").to_pylist()], pa.int32()),
                pa.array(names, pa.string()),
            )
            batch = batch.set_column(0, pa.field("person", person.type, nullable=False), person)
        yield batch


def _months(store: FactStore) -> dict[str, list[dict[str, object]]]:
    """Each stored month's rows in file order."""
    with store.files() as files:
        return {month: read_table(path).to_pylist() for month, path in files.months.items()}


def _sorted(rows: list[dict[str, object]]) -> bool:
    return rows == sorted(rows, key=lambda row: tuple(str(row[name]) for name in ORDER))


def _commit(root: Path, facts: list[Fact], *, encoded: bool, encrypted: bool) -> FactStore:
    store = FactStore(root, encryption_key=KEY if encrypted else None)
    store.commit(content_hash="a" * 64, source="m365", label="t", facts=_batches(facts, encoded=encoded))
    return store


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_encoded_and_plain_person_columns_store_the_same_sorted_month_files(
    tmp_path: Path, encrypted: bool
) -> None:
    facts = _facts()
    plain = _months(_commit(tmp_path / "plain", facts, encoded=False, encrypted=encrypted))
    encoded = _months(_commit(tmp_path / "encoded", facts, encoded=True, encrypted=encrypted))
    assert encoded == plain
    assert sum(len(rows) for rows in plain.values()) == len(facts)
    assert len(plain) == 2
    assert all(_sorted(rows) for rows in plain.values())


def test_teeth_ranking_people_by_arrival_number_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_arrival = _merge._PEOPLE_SQL.replace("ORDER BY person)", "ORDER BY person_id)")
    assert by_arrival != _merge._PEOPLE_SQL
    monkeypatch.setattr(_merge, "_PEOPLE_SQL", by_arrival)
    months = _months(_commit(tmp_path, _facts(), encoded=True, encrypted=False))
    assert not all(_sorted(rows) for rows in months.values())


def test_the_last_of_two_rows_with_one_key_wins_across_encoded_batches(tmp_path: Path) -> None:
    first = Fact("p-one", dt.date(2024, 1, 22), 1, "emails_sent", 3, "m365")
    later = Fact("p-one", dt.date(2024, 1, 22), 1, "emails_sent", 9, "m365")
    other = Fact("p-two", dt.date(2024, 1, 22), 1, "emails_sent", 4, "m365")
    batches = [*_batches([first, other], encoded=True), *_batches([later], encoded=False)]
    store = FactStore(tmp_path)
    summary = store.commit(content_hash="b" * 64, source="m365", label="t", facts=iter(batches))
    assert summary.duplicate_keys == 1
    rows = [row for month in _months(store).values() for row in month]
    assert [(row["person"], row["value"]) for row in rows] == [("p-one", 9), ("p-two", 4)]


def test_an_encoded_person_column_with_an_empty_pseudonym_is_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    person = pa.DictionaryArray.from_arrays(pa.array([0], pa.int32()), pa.array([None], pa.string()))
    batch = facts_table([Fact("x", dt.date(2024, 1, 22), 1, "emails_sent", 1, "m365")]).to_batches()[0]
    batch = batch.set_column(0, pa.field("person", person.type), person)
    store = FactStore(tmp_path)
    with pytest.raises(StoreError, match="column 'person'"):
        store.commit(content_hash="c" * 64, source="m365", label="t", facts=iter([batch]))
    assert _months(store) == {}

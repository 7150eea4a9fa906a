"""FactStore.commit: layout, upserts, idempotence, streaming, input checks and the writer lock."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

import teamlens.store
from teamlens.domain import FACT_SCHEMA
from teamlens.errors import StoreError
from teamlens.store import BatchInfo, CommitSummary, FactStore
from teamlens.store._locks import writer_lock

from .factstore_helpers import (
    Fact,
    Placement,
    directory_table,
    facts_table,
    snapshot,
    stored_directory,
    stored_facts,
)

D = dt.date
CANARY = "canary-pseudonym-7f3a9c"
CANARY_VALUE = 987_654_321


def fact(
    person: str, day: dt.date, value: int, metric: str = "meeting_minutes", source: str = "m365"
) -> Fact:
    return Fact(person, day, 1, metric, value, source)


def commit(
    store: FactStore, content_hash: str, facts: list[Fact], directory: pa.Table | None = None
) -> CommitSummary:
    return store.commit(
        content_hash=content_hash,
        source="m365",
        label=f"export {content_hash}",
        facts=facts_table(facts),
        directory=directory,
    )


def manifest(root: Path) -> dict[str, object]:
    return json.loads((root / "manifest.json").read_text())  # type: ignore[no-any-return]


def test_the_package_exports_its_documented_api() -> None:
    assert set(teamlens.store.__all__) == {
        "ORGANISATION_GROUP",
        "BatchInfo",
        "BlockReader",
        "CommitSummary",
        "Copied",
        "DayRange",
        "Expired",
        "FactStore",
        "LEVEL_COLUMNS",
        "MetricClip",
        "StoreFiles",
        "StoreStats",
        "level_column",
        "months_between",
        "rekeyed_copy",
        "source_locked",
    }
    public = {name for name in vars(teamlens.store) if not name.startswith("_")}
    submodules = {"fact_store", "summaries"}
    assert public - submodules == set(teamlens.store.__all__)


def test_a_commit_writes_one_file_per_month_of_the_iso_week_monday_and_a_manifest(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    facts = [
        fact("ann", D(2026, 1, 6), 1),
        fact("ann", D(2026, 3, 1), 2),  # a Sunday: its week's Monday is 2026-02-23
        fact("ann", D(2026, 1, 1), 3),  # a Thursday: its week's Monday is 2025-12-29
    ]
    summary = commit(
        store, "h1", facts, directory=directory_table([Placement("ann", D(2025, 1, 1), None, team="A")])
    )
    assert summary == CommitSummary(
        content_hash="h1",
        already_present=False,
        generation=1,
        rows_received=3,
        duplicate_keys=0,
        rows_added=3,
        rows_replaced=0,
        months_rewritten=("2025-12", "2026-01", "2026-02"),
        directory_rows=1,
    )
    written = manifest(tmp_path)
    assert written["format"] == 1
    assert written["generation"] == 1
    assert written["months"] == {
        "2025-12": "months/2025-12/gen-1.parquet",
        "2026-01": "months/2026-01/gen-1.parquet",
        "2026-02": "months/2026-02/gen-1.parquet",
    }
    assert written["directory"] == "directory/gen-1.parquet"
    batch = written["batches"]["h1"]  # type: ignore[index]
    assert (batch["source"], batch["label"], batch["rows"]) == ("m365", "export h1", 3)
    assert stored_facts(tmp_path) == sorted(facts)


def test_only_the_months_a_commit_touches_are_rewritten(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    commit(store, "h1", [fact("ann", D(2026, 1, 6), 1), fact("ann", D(2026, 2, 3), 2)])
    summary = commit(store, "h2", [fact("bob", D(2026, 2, 4), 5)])
    assert summary.months_rewritten == ("2026-02",)
    assert manifest(tmp_path)["months"] == {
        "2026-01": "months/2026-01/gen-1.parquet",
        "2026-02": "months/2026-02/gen-2.parquet",
    }
    assert not (tmp_path / "months/2026-02/gen-1.parquet").exists()  # superseded, nobody reading


def test_a_later_commit_replaces_values_of_the_same_key_instead_of_adding(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    commit(store, "h1", [fact("ann", D(2026, 1, 6), 10), fact("ann", D(2026, 1, 7), 20)])
    summary = commit(
        store,
        "h2",
        [
            fact("ann", D(2026, 1, 7), 25),  # same key: replaces 20
            fact("ann", D(2026, 1, 7), 4, source="slack"),  # another source: a new key
        ],
    )
    assert (summary.rows_replaced, summary.rows_added) == (1, 1)
    assert stored_facts(tmp_path) == sorted(
        [
            fact("ann", D(2026, 1, 6), 10),
            fact("ann", D(2026, 1, 7), 25),
            fact("ann", D(2026, 1, 7), 4, source="slack"),
        ]
    )


def test_duplicate_keys_inside_one_commit_keep_the_last_and_are_counted(tmp_path: Path) -> None:
    store = FactStore(tmp_path)

    def batches() -> Iterator[pa.RecordBatch]:
        # The duplicates sit in different record batches, so arrival order must survive staging.
        yield from facts_table([fact("ann", D(2026, 1, 6), 1), fact("bob", D(2026, 1, 6), 7)]).to_batches()
        yield from facts_table([fact("ann", D(2026, 1, 6), 2)]).to_batches()
        yield from facts_table([fact("ann", D(2026, 1, 6), 3)]).to_batches()

    summary = store.commit(content_hash="h1", source="m365", label="dups", facts=batches())
    assert (summary.rows_received, summary.duplicate_keys, summary.rows_added) == (4, 2, 2)
    assert stored_facts(tmp_path) == [fact("ann", D(2026, 1, 6), 3), fact("bob", D(2026, 1, 6), 7)]


@pytest.mark.parametrize("hashes_agree", [True, False], ids=["no repeats seen", "repeat or collision"])
def test_the_shortcut_for_batches_without_repeated_keys_stores_what_the_exact_way_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashes_agree: bool
) -> None:
    # Distinct key hashes let a commit skip deduplication; when they look repeated (a real
    # repeat, or a hash collision) the exact way must run. Force each way on the same commits.
    if not hashes_agree:
        monkeypatch.setattr(
            teamlens.store._merge, "_KEY_HASHES_SQL", "SELECT count(*), count(*) - 1 FROM staged"
        )
    store = FactStore(tmp_path)
    commit(store, "h1", [fact("ann", D(2026, 1, 6), 1), fact("bob", D(2026, 1, 6), 7)])
    summary = commit(store, "h2", [fact("ann", D(2026, 1, 6), 5), fact("cat", D(2026, 1, 8), 2)])
    assert (summary.rows_received, summary.duplicate_keys) == (2, 0)
    assert (summary.rows_replaced, summary.rows_added) == (1, 1)
    assert stored_facts(tmp_path) == sorted(
        [fact("ann", D(2026, 1, 6), 5), fact("bob", D(2026, 1, 6), 7), fact("cat", D(2026, 1, 8), 2)]
    )


def test_a_stream_of_many_small_batches_is_committed_whole(tmp_path: Path) -> None:
    facts = [
        fact(f"p{index % 50}", D(2026, 1, 1) + dt.timedelta(days=index % 90), index) for index in range(3000)
    ]
    table = facts_table(facts)
    store = FactStore(tmp_path)
    summary = store.commit(
        content_hash="h1", source="m365", label="stream", facts=iter(table.to_batches(max_chunksize=7))
    )
    assert summary.rows_received == 3000
    assert summary.rows_added + summary.duplicate_keys == 3000
    assert len(stored_facts(tmp_path)) == summary.rows_added


def test_committing_the_same_content_hash_again_changes_nothing(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    commit(store, "h1", [fact("ann", D(2026, 1, 6), 10)])
    before = snapshot(tmp_path)
    summary = commit(store, "h1", [fact("ann", D(2026, 1, 6), 99)], directory=directory_table([]))
    assert summary.already_present
    assert summary.generation == 1
    assert snapshot(tmp_path) == before
    assert store.has_batch("h1")
    assert not store.has_batch("h2")


def test_batches_lists_what_was_committed(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    commit(store, "h1", [fact("ann", D(2026, 1, 6), 10), fact("ann", D(2026, 1, 7), 10)])
    store.commit(content_hash="h2", source="hr", label="directory only", directory=directory_table([]))
    batches = store.batches
    assert set(batches) == {"h1", "h2"}
    info = batches["h1"]
    assert isinstance(info, BatchInfo)
    assert (info.content_hash, info.source, info.label, info.rows) == ("h1", "m365", "export h1", 2)
    assert info.committed_at.tzinfo is not None
    assert batches["h2"].rows == 0


def test_a_directory_replaces_the_whole_stored_directory(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    first = [Placement("ann", D(2025, 1, 1), None, team="A"), Placement("bob", D(2025, 1, 1), None, team="B")]
    second = [Placement("cat", D(2025, 1, 1), None, team="C")]
    store.commit(content_hash="d1", source="hr", label="hr", directory=directory_table(first))
    commit(store, "f1", [fact("ann", D(2026, 1, 6), 1)])  # facts only: the directory stays
    assert stored_directory(tmp_path) == sorted(first)
    summary = store.commit(content_hash="d2", source="hr", label="hr", directory=directory_table(second))
    assert summary.directory_rows == 1
    assert stored_directory(tmp_path) == second
    assert store.person_directory("ann").num_rows == 0
    assert store.person_directory("cat").to_pylist()[0]["team"] == "C"


def test_compatible_column_types_are_converted(tmp_path: Path) -> None:
    table = facts_table([fact("ann", D(2026, 1, 6), 10)])
    loose = pa.table({name: table.column(name) for name in reversed(FACT_SCHEMA.names)}).set_column(
        1, "value", pa.array([10], pa.int32())
    )
    FactStore(tmp_path).commit(content_hash="h1", source="m365", label="loose", facts=loose)
    assert stored_facts(tmp_path) == [fact("ann", D(2026, 1, 6), 10)]


def _bad_inputs() -> list[tuple[str, pa.Table | None, pa.Table | None, str]]:
    good = facts_table([fact(CANARY, D(2026, 1, 6), CANARY_VALUE)])
    weekly_on_tuesday = good.set_column(2, "days", pa.array([7], pa.int8()))
    three_days = good.set_column(2, "days", pa.array([3], pa.int8()))
    null_value = good.set_column(4, "value", pa.array([None], pa.int64()))
    text_value = good.set_column(4, "value", pa.array([CANARY], pa.string()))
    missing = good.drop_columns(["source"])
    overlap = directory_table(
        [
            Placement(CANARY, D(2025, 1, 1), D(2025, 6, 1), team="A"),
            Placement(CANARY, D(2025, 5, 1), None, team="B"),
        ]
    )
    backwards = directory_table([Placement(CANARY, D(2025, 6, 1), D(2025, 1, 1), team="A")])
    return [
        ("weekly fact not on a Monday", weekly_on_tuesday, None, "Monday"),
        ("period of three days", three_days, None, "'days'"),
        ("empty value", null_value, None, "'value'"),
        ("text value", text_value, None, "'value'"),
        ("missing column", missing, None, "source"),
        ("overlapping directory rows", None, overlap, "overlap"),
        ("directory row ending before it starts", None, backwards, "valid_to"),
    ]


@pytest.mark.parametrize(
    ("case", "facts", "directory", "names"), _bad_inputs(), ids=[c[0] for c in _bad_inputs()]
)
def test_bad_input_is_refused_without_a_trace_and_without_personal_data_in_the_message(
    tmp_path: Path, case: str, facts: pa.Table | None, directory: pa.Table | None, names: str
) -> None:
    store = FactStore(tmp_path)
    commit(store, "h0", [fact("ann", D(2026, 1, 6), 1)])
    before = snapshot(tmp_path)
    with pytest.raises(StoreError) as caught:
        store.commit(content_hash="bad", source="m365", label="bad", facts=facts, directory=directory)
    message = str(caught.value)
    assert names in message
    assert CANARY not in message
    assert str(CANARY_VALUE) not in message
    assert snapshot(tmp_path) == before
    assert not store.has_batch("bad")
    assert {path.name for path in (tmp_path / "months" / "2026-01").iterdir()} == {"gen-1.parquet"}


def test_a_second_writer_waits_then_gives_up_with_a_hint(tmp_path: Path) -> None:
    store = FactStore(tmp_path, lock_timeout=0.2)
    with writer_lock(tmp_path, timeout=1), pytest.raises(StoreError) as caught:
        commit(store, "h1", [fact("ann", D(2026, 1, 6), 1)])
    assert "another teamlens process" in caught.value.message
    assert "try again" in caught.value.hint
    assert not store.has_batch("h1")
    commit(store, "h1", [fact("ann", D(2026, 1, 6), 1)])  # the lock was released with the holder
    assert store.has_batch("h1")


def test_stats_count_rows_months_batches_and_bytes_without_personal_data(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    commit(
        store,
        "h1",
        [fact(CANARY, D(2026, 1, 6), CANARY_VALUE), fact("bob", D(2026, 2, 3), 2)],
        directory=directory_table([Placement(CANARY, D(2025, 1, 1), None, team="A")]),
    )
    stats = store.stats()
    assert (stats.generation, stats.fact_rows, stats.months, stats.batches, stats.directory_rows) == (
        1,
        2,
        ("2026-01", "2026-02"),
        1,
        1,
    )
    on_disk = sum(
        (tmp_path / name).stat().st_size
        for name in (
            "months/2026-01/gen-1.parquet",
            "months/2026-02/gen-1.parquet",
            "directory/gen-1.parquet",
        )
    )
    assert stats.bytes == on_disk
    assert CANARY not in repr(stats)
    assert str(CANARY_VALUE) not in repr(stats)


def test_layout_file_names_follow_the_generation(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    for index in range(3):
        commit(store, f"h{index}", [fact("ann", D(2026, 1, 6), index)])
    names = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*.parquet"))
    assert names == ["months/2026-01/gen-3.parquet"]
    assert all(re.fullmatch(r"months/\d{4}-\d{2}/gen-\d+\.parquet", name) for name in names)

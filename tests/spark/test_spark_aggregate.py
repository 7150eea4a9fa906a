"""The Spark backend's block aggregation equals the DuckDB store's, row for row, on awkward data.

A small store is made by hand so that every rule of the aggregation is exercised: people the
directory does not place (hidden keys), a move between teams inside the block, a row without a
team or a department, negative and zero values, vectors clipped and not, objectors, facts
outside the block, and all five levels. The release-level equality (catalogue, exact mode and
seeded noise) is in ``test_spark_release.py``.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA, HIDDEN_PREFIX, GroupLevel
from teamlens.errors import ConfigError
from teamlens.store import FactStore, MetricClip

MONDAY = dt.date(2026, 3, 2)
WEEKS = [MONDAY + dt.timedelta(weeks=offset) for offset in range(4)]
LEVELS = [level.value for level in GroupLevel]
METRICS = ("emails_sent", "meeting_hours", "chat_messages")


def _directory() -> pa.Table:
    rows: list[dict[str, Any]] = []
    for index in range(40):
        person = f"p{index:02d}"
        team, department = f"T{index % 5}", f"D{index % 3}"
        division = None if index % 11 == 0 else f"V{index % 2}"
        if index % 7 == 0:
            team = None  # placed in a department, not in a team
        if index % 13 == 0:
            department = None
        base = {"person": person, "division": division, "location": None if index % 4 else "Leeds"}
        if index % 9 == 0:  # moves team on the block's third Monday
            rows.append(
                {
                    **base,
                    "valid_from": dt.date(2025, 1, 1),
                    "valid_to": WEEKS[2],
                    "team": team,
                    "department": department,
                }
            )
            rows.append({**base, "valid_from": WEEKS[2], "valid_to": None, "team": "T9", "department": "D9"})
        else:
            rows.append(
                {
                    **base,
                    "valid_from": dt.date(2025, 1, 1),
                    "valid_to": None,
                    "team": team,
                    "department": department,
                }
            )
    return pa.Table.from_pylist(rows, DIRECTORY_SCHEMA)


def _facts() -> pa.Table:
    draw = random.Random(20261203)
    rows = []
    people = [f"p{index:02d}" for index in range(46)]  # p40–p45 are not in the directory
    for day in (WEEKS[0] - dt.timedelta(days=3) + dt.timedelta(days=n) for n in range(34)):
        for person in people:
            for metric in METRICS:
                if draw.random() < 0.45:
                    value = draw.choice([-3, 0, 1, 2, 5, 8, 40, 400])
                    rows.append(
                        {
                            "person": person,
                            "day": day,
                            "days": 1,
                            "metric": metric,
                            "value": value,
                            "source": "test",
                        }
                    )
    return pa.Table.from_pylist(rows, FACT_SCHEMA)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FactStore:
    store = FactStore(Path(tmp_path_factory.mktemp("spark-agg")) / "facts")
    store.commit(content_hash="h1", source="test", label="t", facts=_facts(), directory=_directory())
    return store


CLIPS = {
    "emails_sent": MetricClip(norm_bound=30.0 * 2, scale=16),  # clips the heavy senders
    "meeting_hours": MetricClip(norm_bound=1e6, scale=4),  # clips nobody
    "chat_messages": MetricClip(norm_bound=3.5, scale=1024),  # clips nearly everyone
}


#: Blocks asked in one Spark job: overlapping weeks with other bounds (a person's norm is per
#: block), a metric subset, group sizes only, and a fifth week the facts only partly fill.
QUERIES = [
    (WEEKS, CLIPS, True, {"p03", "p41"}),
    (WEEKS[1:3], {"emails_sent": CLIPS["emails_sent"]}, False, set()),
    (WEEKS[:1], {}, True, {"p00"}),  # group sizes only (the planner's forecast)
    ([WEEKS[-1] + dt.timedelta(weeks=1)], {"chat_messages": CLIPS["chat_messages"]}, True, {"p44"}),
]


def test_spark_aggregates_equal_duckdb_block_by_block(spark: Any, store: FactStore) -> None:
    from teamlens.spark import BlockQuery, SparkAggregator

    asked = [
        BlockQuery(weeks=weeks, clips=clips, headcount=headcount, exclude=exclude)
        for weeks, clips, headcount, exclude in QUERIES
    ]
    on_spark = SparkAggregator(store, spark).aggregate_blocks(levels=LEVELS, blocks=asked)  # one job
    assert len(on_spark) == len(QUERIES)
    for (weeks, clips, headcount, exclude), ours in zip(QUERIES, on_spark, strict=True):
        on_duckdb = store.aggregate_block(
            levels=LEVELS, weeks=weeks, clips=clips, headcount=headcount, exclude=exclude
        )
        assert ours.schema == on_duckdb.schema
        assert ours.to_pylist() == on_duckdb.to_pylist()
        # The data does exercise what the equality is about.
        groups = set(on_duckdb.column("group").to_pylist())
        assert any(group.startswith(HIDDEN_PREFIX) for group in groups)
        if clips:
            assert on_duckdb.num_rows > 20
            # Teeth: a clipping bound 3% looser on one side breaks the equality.
            loose = {name: MetricClip(clip.norm_bound * 1.03, clip.scale) for name, clip in clips.items()}
            drifted = store.aggregate_block(
                levels=LEVELS, weeks=weeks, clips=loose, headcount=headcount, exclude=exclude
            )
            assert drifted.to_pylist() != ours.to_pylist()
    # Teeth: blocks are clipped apart. The first two share weeks; clipped over both at once (one
    # norm per person and metric across blocks), the second block's totals would be others.
    merged = store.aggregate_block(
        levels=LEVELS, weeks=WEEKS, clips={"emails_sent": CLIPS["emails_sent"]}, headcount=False
    )
    inside = [row for row in merged.to_pylist() if row["week"] in WEEKS[1:3]]
    assert inside != on_spark[1].to_pylist()


def test_one_block_on_spark_is_the_same_job(spark: Any, store: FactStore) -> None:
    from teamlens.spark import SparkAggregator

    weeks, clips, headcount, exclude = QUERIES[1]
    one = SparkAggregator(store, spark).aggregate_block(
        levels=["team", "organisation"], weeks=weeks, clips=clips, headcount=headcount, exclude=exclude
    )
    on_duckdb = store.aggregate_block(
        levels=["team", "organisation"], weeks=weeks, clips=clips, headcount=headcount, exclude=exclude
    )
    assert one.num_rows > 0
    assert one.equals(on_duckdb)


def test_spark_refuses_an_encrypted_store(spark: Any, tmp_path: Path) -> None:
    from teamlens.spark import SparkAggregator

    store = FactStore(tmp_path / "facts", encryption_key=bytes(range(32)))
    store.commit(content_hash="h", source="test", label="t", facts=_facts().slice(0, 10))
    with pytest.raises(ConfigError, match="encrypted"):
        SparkAggregator(store, spark).aggregate_block(levels=["team"], weeks=WEEKS, clips={}, headcount=True)

"""FactStore.aggregate_block, structure and groups: populations, L2 clipping, exclusions, vs a reference."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import BLOCK_AGGREGATE_SCHEMA, HEADCOUNT, STRUCTURE_SCHEMA, monday_of
from teamlens.errors import InternalError, StoreError
from teamlens.store import FactStore, MetricClip

from ...support.fuzzing import examples
from .factstore_helpers import (
    HIDDEN,
    Fact,
    Placement,
    directory_table,
    facts_table,
    reference_block,
    upserted,
)

D = dt.date
JAN = [D(2025, 12, 29) + dt.timedelta(weeks=week) for week in range(5)]  # the weeks of 2026-01
W02 = [D(2026, 1, 5)]
CLIP = {"meeting_minutes": MetricClip(1000.0, 1)}


def fact(person: str, day: dt.date, value: int, metric: str = "meeting_minutes", days: int = 1) -> Fact:
    return Fact(person, day, days, metric, value, "m365")


def make_store(
    root: Path, facts: list[Fact], directory: list[Placement], content_hash: str = "batch-1"
) -> FactStore:
    store = FactStore(root)
    store.commit(
        content_hash=content_hash,
        source="m365",
        label="test",
        facts=facts_table(facts),
        directory=directory_table(directory),
    )
    return store


def rows(store: FactStore, **kwargs: object) -> list[dict[str, object]]:
    kwargs = {"levels": ["team"], "weeks": W02, "clips": CLIP, "headcount": True, **kwargs}
    table = store.aggregate_block(**kwargs)  # type: ignore[arg-type]
    assert table.schema == BLOCK_AGGREGATE_SCHEMA
    found: list[dict[str, object]] = table.to_pylist()
    return found


def total(
    found: list[dict[str, object]], level: str, group: str, week: dt.date, metric: str = "meeting_minutes"
) -> object:
    hits = [
        r["total"]
        for r in found
        if (r["level"], r["group"], r["week"], r["metric"]) == (level, group, week, metric)
    ]
    assert len(hits) <= 1
    return hits[0] if hits else None


def test_each_week_a_person_counts_in_their_group_that_monday(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2025, 1, 1), D(2026, 1, 12), team="A"),  # moves on the third Monday
        Placement("ann", D(2026, 1, 12), None, team="B"),
        Placement("bob", D(2025, 1, 1), None, team="B"),
    ]
    facts = [fact("ann", D(2026, 1, 6), 10), fact("ann", D(2026, 1, 14), 20)]
    found = rows(make_store(tmp_path, facts, directory), weeks=JAN)
    assert total(found, "team", "A", JAN[1]) == 10
    assert total(found, "team", "B", JAN[2]) == 20
    assert total(found, "team", "A", JAN[2]) is None
    # Person-weeks of the block: ann 2 weeks in A and 3 in B, bob 5 in B.
    assert total(found, "team", "A", JAN[0], HEADCOUNT) == 2
    assert total(found, "team", "B", JAN[0], HEADCOUNT) == 8


def test_a_persons_weeks_are_clipped_together_in_l2_so_one_busy_week_survives(tmp_path: Path) -> None:
    directory = [Placement(person, D(2025, 1, 1), None, team="A") for person in ("ann", "bob")]
    steady = [fact("ann", week, 30) for week in JAN]  # rms 30
    spike = [fact("bob", JAN[0], 60), *(fact("bob", week, 10) for week in JAN[1:])]  # rms ≈ 28.6
    clip = {"meeting_minutes": MetricClip(40 * math.sqrt(5), 1)}
    found = rows(make_store(tmp_path, [*steady, *spike], directory), weeks=JAN, clips=clip)
    assert total(found, "team", "A", JAN[0]) == 90  # bob's 60-minute week is kept whole under a 40 rms bound
    heavy = [fact("ann", week, 100) for week in JAN]  # rms 100: scaled by 0.4 to rms 40
    found = rows(make_store(tmp_path / "heavy", heavy, directory[:1]), weeks=JAN, clips=clip)
    assert [total(found, "team", "A", week) for week in JAN] == [39] * 5  # 40, rounded down for safety


def test_one_persons_vector_never_exceeds_the_bound_whatever_they_did(tmp_path: Path) -> None:
    directory = [Placement("cat", D(2025, 1, 1), None, team="A")]
    facts = [fact("cat", week, value) for week, value in zip(JAN, (10**6, 7, 0, 3 * 10**5, 1), strict=True)]
    bound = 40 * math.sqrt(5)
    found = rows(
        make_store(tmp_path, facts, directory), weeks=JAN, clips={"meeting_minutes": MetricClip(bound, 16)}
    )
    vector = [total(found, "team", "A", week) or 0 for week in JAN]
    assert math.sqrt(sum(v * v for v in vector)) <= 16 * bound  # type: ignore[operator]
    assert vector[0] > 0.9 * 16 * bound  # the huge week takes nearly all of it


def test_weekly_sums_floor_at_zero_before_clipping(tmp_path: Path) -> None:
    directory = [Placement(person, D(2025, 1, 1), None, team="A") for person in ("ann", "bob")]
    facts = [fact("ann", D(2026, 1, 5) + dt.timedelta(days=day), 15) for day in range(4)] + [
        fact("bob", D(2026, 1, 6), -50)
    ]
    assert total(rows(make_store(tmp_path, facts, directory)), "team", "A", W02[0]) == 60


def test_fixed_point_scales_every_value(tmp_path: Path) -> None:
    directory = [Placement("ann", D(2025, 1, 1), None, team="A")]
    found = rows(
        make_store(tmp_path, [fact("ann", W02[0], 7)], directory),
        clips={"meeting_minutes": MetricClip(100.0, 16)},
    )
    assert total(found, "team", "A", W02[0]) == 112


def test_organisation_level_counts_the_directory_and_everyone_with_facts(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2025, 1, 1), None, team="A", department="Sales"),
        Placement("idle", D(2025, 1, 1), None, team=None, department="Sales"),  # no team, no facts
    ]
    facts = [fact("ann", D(2026, 1, 6), 7), fact("contractor", D(2026, 1, 7), 3)]
    found = rows(make_store(tmp_path, facts, directory), levels=["organisation", "department", "team"])
    assert total(found, "organisation", "Organisation", W02[0], HEADCOUNT) == 3
    assert total(found, "organisation", "Organisation", W02[0]) == 10
    # Below the organisation, people the directory does not place are measured under hidden keys.
    assert total(found, "team", f"{HIDDEN}department=Sales", W02[0], HEADCOUNT) == 1
    assert total(found, "team", HIDDEN, W02[0]) == 3
    assert total(found, "department", HIDDEN, W02[0]) == 3
    assert total(found, "department", "Sales", W02[0], HEADCOUNT) == 2


def test_objectors_are_removed_from_totals_and_headcounts(tmp_path: Path) -> None:
    directory = [Placement(person, D(2025, 1, 1), None, team="A") for person in ("ann", "bob")]
    facts = [fact("ann", D(2026, 1, 6), 7), fact("bob", D(2026, 1, 6), 11), fact("eve", D(2026, 1, 6), 13)]
    store = make_store(tmp_path, facts, directory)
    found = rows(store, levels=["organisation", "team"], exclude={"bob", "eve"})
    assert total(found, "team", "A", W02[0], HEADCOUNT) == 1
    assert total(found, "organisation", "Organisation", W02[0]) == 7
    assert total(found, "organisation", "Organisation", W02[0], HEADCOUNT) == 1


def test_headcount_rows_can_be_left_out(tmp_path: Path) -> None:
    store = make_store(
        tmp_path, [fact("ann", D(2026, 1, 6), 7)], [Placement("ann", D(2025, 1, 1), None, team="A")]
    )
    assert {r["metric"] for r in rows(store, headcount=False)} == {"meeting_minutes"}


def test_weeks_are_counted_by_their_monday_across_year_and_month_ends(tmp_path: Path) -> None:
    directory = [Placement("ann", D(2025, 1, 1), None, team="A")]
    facts = [
        fact("ann", D(2025, 12, 29), 1, days=7),  # weekly fact of 2026-W01, stored under 2025-12
        fact("ann", D(2026, 1, 4), 2),  # Sunday of 2026-W01
        fact("ann", D(2026, 2, 1), 4),  # Sunday of the last January week
        fact("ann", D(2026, 2, 2), 8),  # first February week: outside the block
        fact("ann", D(2025, 12, 28), 16),  # Sunday of 2025-W52: outside the block
    ]
    found = rows(make_store(tmp_path, facts, directory), weeks=JAN)
    assert sum(r["total"] for r in found if r["metric"] == "meeting_minutes") == 7  # type: ignore[misc]


def test_only_the_month_files_the_block_needs_are_read(tmp_path: Path) -> None:
    directory = [Placement("ann", D(2025, 1, 1), None, team="A")]
    store = make_store(tmp_path, [fact("ann", D(2026, 1, 6), 7), fact("ann", D(2026, 6, 2), 9)], directory)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / manifest["months"]["2026-06"]).unlink()
    assert total(rows(store), "team", "A", W02[0]) == 7
    with pytest.raises(StoreError):
        rows(store, weeks=[D(2026, 6, 1)])


def test_the_chart_comes_from_directory_rows_of_the_block_and_history_for_the_rest(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2025, 1, 1), None, team="A", department="Sales"),
        Placement("bob", D(2025, 1, 1), D(2025, 6, 1), team="Old", department="Legal"),  # before the block
        Placement("cat", D(2025, 1, 1), None, team=None, department="Legal"),
    ]
    store = make_store(tmp_path, [], directory)
    chart = store.structure(
        levels=["department", "team"], first_day=JAN[0], end_day=JAN[-1] + dt.timedelta(days=7)
    )
    assert chart.schema == STRUCTURE_SCHEMA
    pairs = {(r["group"], r["parent_group"]) for r in chart.to_pylist()}
    assert pairs == {
        ("A", "Sales"),
        ("Old", "Legal"),
        (f"{HIDDEN}department=Legal", "Legal"),
        (HIDDEN, HIDDEN),
    }


def test_groups_list_every_key_in_the_directory_history_hidden_keys_included(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2024, 1, 1), D(2025, 1, 1), team="Zeta", location="Leeds"),
        Placement("ann", D(2025, 1, 1), None, team="Alpha", location="Leeds"),
        Placement("bob", D(2025, 1, 1), D(2025, 6, 1), team=None, location="York", department="Ops"),
        Placement("cat", D(2025, 1, 1), None, team="Alpha", location=None),
    ]
    store = make_store(tmp_path, [], directory)
    assert store.groups("team") == [HIDDEN, f"{HIDDEN}department=Ops", "Alpha", "Zeta"]
    assert store.groups("location") == [HIDDEN, "Leeds", "York"]
    assert store.groups("organisation") == ["Organisation"]
    assert FactStore(tmp_path / "empty").groups("team") == [HIDDEN]


def test_group_sizes_count_the_people_of_shown_groups_that_week(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2025, 1, 1), None, team="A"),
        Placement("bob", D(2025, 1, 1), None, team="A"),
        Placement("cat", D(2025, 1, 1), None, team=None),
    ]
    store = make_store(tmp_path, [], directory)
    assert store.group_sizes("team", W02[0]) == {"A": 2}
    assert store.group_sizes("team", W02[0], exclude={"bob"}) == {"A": 1}


def test_an_unknown_level_is_refused_with_the_known_levels(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    with pytest.raises(StoreError) as caught:
        rows(store, levels=["person"])
    assert "team" in caught.value.hint
    with pytest.raises(StoreError):
        store.groups("person")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"clips": {"meeting_minutes": MetricClip(-1.0, 1)}},
        {"clips": {"meeting_minutes": MetricClip(float("inf"), 1)}},
        {"clips": {"meeting_minutes": MetricClip(10.0, 0)}},
        {"weeks": [D(2026, 1, 6)]},
        {"weeks": []},
        {"levels": []},
        {"levels": ["team", "team"]},
    ],
)
def test_impossible_requests_are_bugs_in_the_caller(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(InternalError):
        rows(FactStore(tmp_path), **kwargs)


def test_a_directory_group_named_like_a_hidden_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="control character"):
        make_store(tmp_path, [], [Placement("ann", D(2025, 1, 1), None, team=f"{HIDDEN}sneaky")])


# -- property: the store agrees with the reference on random data ------------------------------------

PEOPLE = [f"p{index}" for index in range(6)]
FIRST_DAY = D(2025, 12, 8)
DAY_OFFSETS = st.integers(min_value=0, max_value=70)
DAYS = st.builds(lambda offset: FIRST_DAY + dt.timedelta(days=offset), DAY_OFFSETS)
BLOCKS = [
    [D(2025, 12, 29) + dt.timedelta(weeks=w) for w in range(5)],
    [D(2026, 1, 5)],
    [D(2025, 12, 8), D(2025, 12, 15)],
]


@st.composite
def random_facts(draw: st.DrawFn) -> list[Fact]:
    facts = []
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        day = FIRST_DAY + dt.timedelta(days=draw(DAY_OFFSETS))
        weekly = draw(st.booleans())
        facts.append(
            Fact(
                person=draw(st.sampled_from([*PEOPLE, "outsider"])),
                day=day - dt.timedelta(days=day.weekday()) if weekly else day,
                days=7 if weekly else 1,
                metric=draw(st.sampled_from(["meeting_minutes", "emails_sent"])),
                value=draw(st.integers(min_value=-5, max_value=90)),
                source=draw(st.sampled_from(["m365", "slack"])),
            )
        )
    return facts


@st.composite
def random_directory(draw: st.DrawFn) -> list[Placement]:
    rows_ = []
    for person in PEOPLE:
        moves = {monday_of(day) if draw(st.booleans()) else day for day in draw(st.lists(DAYS, max_size=3))}
        starts = [FIRST_DAY - dt.timedelta(days=30), *sorted(moves)]
        if draw(st.booleans()):
            starts = starts[1:]
        leaves = draw(st.booleans())
        for index, start in enumerate(starts):
            last = index == len(starts) - 1
            end = (
                (start + dt.timedelta(weeks=draw(st.integers(1, 6))) if leaves else None)
                if last
                else starts[index + 1]
            )
            rows_.append(
                Placement(
                    person,
                    start,
                    end,
                    team=draw(st.sampled_from(["A", "B", None])),
                    department=draw(st.sampled_from(["X", "Y", None])),
                    location=draw(st.sampled_from(["L", None])),
                )
            )
    return rows_


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=random_facts(),
    second=random_facts(),
    directory=random_directory(),
    weeks=st.sampled_from(BLOCKS),
    bounds=st.tuples(st.floats(1.0, 150.0), st.floats(1.0, 150.0)),
    scales=st.tuples(st.sampled_from([1, 16]), st.sampled_from([1, 4])),
    levels=st.lists(
        st.sampled_from(["organisation", "department", "team", "location"]),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    headcount=st.booleans(),
    exclude=st.sets(st.sampled_from([*PEOPLE, "outsider"]), max_size=2),
)
def test_aggregate_block_matches_the_reference_on_random_data(
    first: list[Fact],
    second: list[Fact],
    directory: list[Placement],
    weeks: list[dt.date],
    bounds: tuple[float, float],
    scales: tuple[int, int],
    levels: list[str],
    headcount: bool,
    exclude: set[str],
) -> None:
    clips = {"meeting_minutes": (bounds[0], scales[0]), "emails_sent": (bounds[1], scales[1])}
    with tempfile.TemporaryDirectory() as folder:
        store = FactStore(Path(folder))
        store.commit(
            content_hash="one",
            source="m365",
            label="first",
            facts=facts_table(first),
            directory=directory_table(directory),
        )
        store.commit(content_hash="two", source="m365", label="second", facts=facts_table(second))
        expected_facts = upserted(first, second)
        got = store.aggregate_block(
            levels=levels,
            weeks=weeks,
            clips={name: MetricClip(*clip) for name, clip in clips.items()},
            headcount=headcount,
            exclude=exclude,
        )
        expected = reference_block(
            expected_facts,
            directory,
            levels=levels,
            weeks=weeks,
            clips=clips,
            headcount=headcount,
            exclude=exclude,
        )
        assert got.to_pylist() == expected

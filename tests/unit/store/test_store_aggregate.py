"""FactStore.aggregate and groups: populations, clipping, exclusions, against a pure-Python reference."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import AGGREGATE_SCHEMA, HEADCOUNT, Cadence, Window, monday_of
from teamlens.errors import InternalError, StoreError
from teamlens.store import FactStore

from .factstore_helpers import (
    Fact,
    Placement,
    directory_table,
    facts_table,
    reference_aggregate,
    upserted,
)

D = dt.date
JAN = Window(Cadence.MONTH, "2026-01")  # ISO weeks Mon 2025-12-29 … Sun 2026-02-01
FEB = Window(Cadence.MONTH, "2026-02")  # Mon 2026-02-02 … Sun 2026-03-01
W02 = Window(Cadence.WEEK, "2026-W02")  # Mon 2026-01-05 … Sun 2026-01-11


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


def as_rows(store: FactStore, **kwargs: object) -> list[dict[str, object]]:
    table = store.aggregate(**kwargs)  # type: ignore[arg-type]
    assert table.schema == AGGREGATE_SCHEMA
    rows: list[dict[str, object]] = table.to_pylist()
    return rows


def cell(rows: list[dict[str, object]], group: str, window: str, metric: str) -> object:
    found = [
        row["total"]
        for row in rows
        if (row["group"], row["window"], row["metric"]) == (group, window, metric)
    ]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_person_counts_in_their_group_at_the_window_start_for_the_whole_window(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2025, 1, 1), D(2026, 1, 14), team="A"),  # moves mid-January
        Placement("ann", D(2026, 1, 14), None, team="B"),
        Placement("bob", D(2025, 1, 1), None, team="B"),
    ]
    facts = [fact("ann", D(2026, 1, 5), 10), fact("ann", D(2026, 1, 20), 20), fact("ann", D(2026, 2, 3), 40)]
    store = make_store(tmp_path, facts, directory)
    bounds = {(JAN.key, "meeting_minutes"): 1000, (FEB.key, "meeting_minutes"): 1000}
    rows = as_rows(store, level="team", windows=[JAN, FEB], bounds=bounds)
    assert cell(rows, "A", JAN.key, "meeting_minutes") == 30  # the move in January does not split her
    assert cell(rows, "A", JAN.key, HEADCOUNT) == 1
    assert cell(rows, "B", JAN.key, "meeting_minutes") == 0  # bob has no facts: a zero, not a gap
    assert cell(rows, "B", FEB.key, "meeting_minutes") == 40
    assert cell(rows, "B", FEB.key, HEADCOUNT) == 2
    assert cell(rows, "A", FEB.key, HEADCOUNT) is None  # a group with no members has no rows


def test_joiners_after_the_start_and_leavers_at_the_start_are_not_in_the_window(tmp_path: Path) -> None:
    directory = [
        Placement("joiner", D(2026, 1, 7), None, team="A"),
        Placement("leaver", D(2025, 1, 1), JAN.start, team="A"),
        Placement("stayer", D(2025, 1, 1), None, team="A"),
    ]
    facts = [fact(person, D(2026, 1, 8), 5) for person in ("joiner", "leaver", "stayer")]
    store = make_store(tmp_path, facts, directory)
    rows = as_rows(store, level="team", windows=[JAN, FEB], bounds={(JAN.key, "meeting_minutes"): 100})
    assert cell(rows, "A", JAN.key, HEADCOUNT) == 1
    assert cell(rows, "A", JAN.key, "meeting_minutes") == 5
    assert cell(rows, "A", FEB.key, HEADCOUNT) == 2  # the joiner is in from the next window
    assert cell(rows, "A", FEB.key, "meeting_minutes") is None  # no bound for February: not reported


def test_a_person_who_starts_on_the_window_start_is_in_it(tmp_path: Path) -> None:
    directory = [Placement("ann", JAN.start, None, team="A")]
    store = make_store(tmp_path, [fact("ann", D(2026, 1, 6), 7)], directory)
    rows = as_rows(store, level="team", windows=[JAN], bounds={(JAN.key, "meeting_minutes"): 100})
    assert (cell(rows, "A", JAN.key, HEADCOUNT), cell(rows, "A", JAN.key, "meeting_minutes")) == (1, 7)


def test_facts_of_people_outside_the_population_are_ignored(tmp_path: Path) -> None:
    directory = [Placement("ann", D(2025, 1, 1), None, team="A")]
    facts = [fact("ann", D(2026, 1, 6), 7), fact("stranger", D(2026, 1, 6), 500)]
    store = make_store(tmp_path, facts, directory)
    rows = as_rows(store, level="team", windows=[W02], bounds={(W02.key, "meeting_minutes"): 1000})
    assert rows == [
        {"group": "A", "window": W02.key, "metric": HEADCOUNT, "total": 1},
        {"group": "A", "window": W02.key, "metric": "meeting_minutes", "total": 7},
    ]


def test_organisation_level_counts_the_directory_and_everyone_with_facts(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2025, 1, 1), None, team="A"),
        Placement("idle", D(2025, 1, 1), None, team=None),  # no team, no facts: still in the organisation
    ]
    facts = [fact("ann", D(2026, 1, 6), 7), fact("contractor", D(2026, 1, 7), 3)]
    store = make_store(tmp_path, facts, directory)
    rows = as_rows(store, level="organisation", windows=[W02], bounds={(W02.key, "meeting_minutes"): 1000})
    assert cell(rows, "Organisation", W02.key, HEADCOUNT) == 3
    assert cell(rows, "Organisation", W02.key, "meeting_minutes") == 10
    assert store.groups("organisation") == ["Organisation"]


def test_one_person_moves_a_total_by_at_most_the_bound(tmp_path: Path) -> None:
    directory = [Placement(person, D(2025, 1, 1), None, team="A") for person in ("ann", "bob", "cat")]
    facts = [fact("ann", D(2026, 1, 6), 30), fact("bob", D(2026, 1, 7), 20)]
    bounds = {(W02.key, "meeting_minutes"): 40}
    store = make_store(tmp_path, facts, directory)
    before = cell(as_rows(store, level="team", windows=[W02], bounds=bounds), "A", W02.key, "meeting_minutes")
    store.commit(
        content_hash="outlier",
        source="m365",
        label="test",
        facts=facts_table([fact("cat", D(2026, 1, 8), 10**6)]),
    )
    after = cell(as_rows(store, level="team", windows=[W02], bounds=bounds), "A", W02.key, "meeting_minutes")
    assert before == 50
    assert after == 90  # cat's million is clipped to the bound of 40


def test_clipping_applies_to_the_window_sum_and_floors_at_zero(tmp_path: Path) -> None:
    directory = [Placement(person, D(2025, 1, 1), None, team="A") for person in ("ann", "bob")]
    facts = [
        *(
            fact("ann", D(2026, 1, 5) + dt.timedelta(days=offset), 15) for offset in range(4)
        ),  # 60 over the week
        fact("bob", D(2026, 1, 6), -50),
    ]
    store = make_store(tmp_path, facts, directory)
    rows = as_rows(store, level="team", windows=[W02], bounds={(W02.key, "meeting_minutes"): 40})
    assert cell(rows, "A", W02.key, "meeting_minutes") == 40


def test_objectors_are_removed_from_totals_and_headcounts(tmp_path: Path) -> None:
    directory = [Placement(person, D(2025, 1, 1), None, team="A") for person in ("ann", "bob")]
    facts = [fact("ann", D(2026, 1, 6), 7), fact("bob", D(2026, 1, 6), 11), fact("eve", D(2026, 1, 6), 13)]
    store = make_store(tmp_path, facts, directory)
    bounds = {(W02.key, "meeting_minutes"): 100}
    team = as_rows(store, level="team", windows=[W02], bounds=bounds, exclude={"bob"})
    org = as_rows(store, level="organisation", windows=[W02], bounds=bounds, exclude=["bob", "eve"])
    assert (cell(team, "A", W02.key, HEADCOUNT), cell(team, "A", W02.key, "meeting_minutes")) == (1, 7)
    assert (
        cell(org, "Organisation", W02.key, HEADCOUNT),
        cell(org, "Organisation", W02.key, "meeting_minutes"),
    ) == (
        1,
        7,
    )


def test_headcount_rows_can_be_left_out(tmp_path: Path) -> None:
    store = make_store(
        tmp_path, [fact("ann", D(2026, 1, 6), 7)], [Placement("ann", D(2025, 1, 1), None, team="A")]
    )
    rows = as_rows(
        store, level="team", windows=[W02], bounds={(W02.key, "meeting_minutes"): 100}, headcount=False
    )
    assert rows == [{"group": "A", "window": W02.key, "metric": "meeting_minutes", "total": 7}]


def test_people_without_a_label_at_the_level_are_skipped(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2025, 1, 1), None, team="A", department="Sales"),
        Placement("bob", D(2025, 1, 1), None, team=None, department="Sales"),
    ]
    store = make_store(tmp_path, [fact("bob", D(2026, 1, 6), 9)], directory)
    bounds = {(W02.key, "meeting_minutes"): 100}
    assert cell(as_rows(store, level="team", windows=[W02], bounds=bounds), "A", W02.key, HEADCOUNT) == 1
    by_department = as_rows(store, level="department", windows=[W02], bounds=bounds)
    assert cell(by_department, "Sales", W02.key, HEADCOUNT) == 2
    assert cell(by_department, "Sales", W02.key, "meeting_minutes") == 9


def test_weeks_are_counted_by_their_monday_across_year_and_month_ends(tmp_path: Path) -> None:
    directory = [Placement("ann", D(2025, 1, 1), None, team="A")]
    facts = [
        fact("ann", D(2025, 12, 29), 1, days=7),  # weekly fact of 2026-W01, stored under 2025-12
        fact("ann", D(2026, 1, 4), 2),  # Sunday of 2026-W01
        fact("ann", D(2026, 2, 1), 4),  # Sunday of the last January week
        fact("ann", D(2026, 2, 2), 8),  # first February week
        fact("ann", D(2025, 12, 28), 16),  # Sunday of 2025-W52: December
    ]
    store = make_store(tmp_path, facts, directory)
    rows = as_rows(store, level="team", windows=[JAN], bounds={(JAN.key, "meeting_minutes"): 1000})
    assert cell(rows, "A", JAN.key, "meeting_minutes") == 7


def test_only_the_month_files_the_windows_need_are_read(tmp_path: Path) -> None:
    directory = [Placement("ann", D(2025, 1, 1), None, team="A")]
    store = make_store(tmp_path, [fact("ann", D(2026, 1, 6), 7), fact("ann", D(2026, 6, 2), 9)], directory)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / manifest["months"]["2026-06"]).unlink()
    rows = as_rows(store, level="team", windows=[W02], bounds={(W02.key, "meeting_minutes"): 100})
    assert cell(rows, "A", W02.key, "meeting_minutes") == 7
    june = Window(Cadence.MONTH, "2026-06")
    with pytest.raises(StoreError):
        store.aggregate(level="team", windows=[june], bounds={(june.key, "meeting_minutes"): 100})


def test_an_unknown_level_is_refused_with_the_known_levels(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    with pytest.raises(StoreError) as caught:
        store.aggregate(level="person", windows=[W02], bounds={})
    assert "team" in caught.value.hint
    with pytest.raises(StoreError):
        store.groups("person")


def test_a_negative_bound_is_a_bug_in_the_caller(tmp_path: Path) -> None:
    with pytest.raises(InternalError):
        FactStore(tmp_path).aggregate(level="team", windows=[W02], bounds={(W02.key, "meeting_minutes"): -1})


def test_an_empty_store_aggregates_to_nothing(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    assert (
        store.aggregate(level="team", windows=[W02], bounds={(W02.key, "meeting_minutes"): 1}).num_rows == 0
    )
    assert store.groups("team") == []


def test_groups_lists_every_label_in_the_directory_history_sorted(tmp_path: Path) -> None:
    directory = [
        Placement("ann", D(2024, 1, 1), D(2025, 1, 1), team="Zeta", location="Leeds"),
        Placement("ann", D(2025, 1, 1), None, team="Alpha", location="Leeds"),
        Placement("bob", D(2025, 1, 1), D(2025, 6, 1), team=None, location="York"),
        Placement("cat", D(2025, 1, 1), None, team="Alpha", location=None),
    ]
    store = make_store(tmp_path, [], directory)
    assert store.groups("team") == ["Alpha", "Zeta"]
    assert store.groups("location") == ["Leeds", "York"]
    assert store.groups("division") == []


# -- property: the store agrees with the reference on random data ------------------------------------

PEOPLE = [f"p{index}" for index in range(6)]
FIRST_DAY = D(2025, 12, 8)
CANDIDATE_WINDOWS = [
    Window(Cadence.WEEK, "2025-W52"),
    Window(Cadence.WEEK, "2026-W01"),
    Window(Cadence.WEEK, "2026-W05"),
    Window(Cadence.MONTH, "2025-12"),
    JAN,
    FEB,
    Window(Cadence.QUARTER, "2026-Q1"),
]
DAY_OFFSETS = st.integers(min_value=0, max_value=100)
DAYS = st.builds(lambda offset: FIRST_DAY + dt.timedelta(days=offset), DAY_OFFSETS)


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
                value=draw(st.integers(min_value=-5, max_value=60)),
                source=draw(st.sampled_from(["m365", "slack"])),
            )
        )
    return facts


@st.composite
def random_directory(draw: st.DrawFn) -> list[Placement]:
    rows = []
    for person in PEOPLE:
        # Moves land on Mondays half the time: window starts are where off-by-one errors hide.
        moves = {monday_of(day) if draw(st.booleans()) else day for day in draw(st.lists(DAYS, max_size=3))}
        starts = [FIRST_DAY - dt.timedelta(days=30), *sorted(moves)]
        if draw(st.booleans()):  # a joiner: drop the first period
            starts = starts[1:]
        leaves = draw(st.booleans())
        for index, start in enumerate(starts):
            last = index == len(starts) - 1
            end = (
                (start + dt.timedelta(weeks=draw(st.integers(1, 6))) if leaves else None)
                if last
                else starts[index + 1]
            )
            rows.append(
                Placement(
                    person,
                    start,
                    end,
                    team=draw(st.sampled_from(["A", "B", None])),
                    department=draw(st.sampled_from(["X", "Y"])),
                )
            )
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=random_facts(),
    second=random_facts(),
    directory=random_directory(),
    windows=st.lists(st.sampled_from(CANDIDATE_WINDOWS), min_size=1, max_size=4),
    bound_values=st.lists(st.one_of(st.none(), st.integers(0, 80)), min_size=14, max_size=14),
    level=st.sampled_from(["team", "department", "organisation"]),
    headcount=st.booleans(),
    exclude=st.sets(st.sampled_from([*PEOPLE, "outsider"]), max_size=2),
)
def test_aggregate_matches_the_reference_on_random_data(
    first: list[Fact],
    second: list[Fact],
    directory: list[Placement],
    windows: list[Window],
    bound_values: list[int | None],
    level: str,
    headcount: bool,
    exclude: set[str],
) -> None:
    pairs = [
        (window.key, metric) for window in CANDIDATE_WINDOWS for metric in ("meeting_minutes", "emails_sent")
    ]
    bounds = {pair: value for pair, value in zip(pairs, bound_values, strict=True) if value is not None}
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
        got = store.aggregate(
            level=level, windows=windows, bounds=bounds, headcount=headcount, exclude=exclude
        )
        expected = reference_aggregate(
            expected_facts,
            directory,
            level=level,
            windows=windows,
            bounds=bounds,
            headcount=headcount,
            exclude=exclude,
        )
        assert got.to_pylist() == expected
        person = "p0"
        assert [Fact(**row) for row in store.person_facts(person).to_pylist()] == sorted(
            (item for item in expected_facts if item.person == person),
            key=lambda item: (item.day, item.metric, item.source, item.days),
        )

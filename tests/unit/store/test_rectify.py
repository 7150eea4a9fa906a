"""A correction splits exactly the person's placements that overlap the corrected days (R21)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from teamlens.domain import DIRECTORY_SCHEMA
from teamlens.store._rectify import regrouped

D = dt.date


def table(*rows: tuple[str, dt.date, dt.date | None, str]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"person": p, "valid_from": f, "valid_to": t, "team": team, "department": "D", "division": None,
             "location": None}
            for p, f, t, team in rows
        ],
        schema=DIRECTORY_SCHEMA,
    )  # fmt: skip


def spans(result: pa.Table, person: str) -> list[tuple[dt.date, dt.date | None, str]]:
    return [(r["valid_from"], r["valid_to"], r["team"]) for r in result.to_pylist() if r["person"] == person]


def test_the_overlap_takes_the_corrected_group_and_the_rest_keeps_its_own() -> None:
    before = table(
        ("ann", D(2026, 1, 1), D(2026, 2, 1), "A"),
        ("ann", D(2026, 2, 1), None, "B"),
        ("bob", D(2026, 1, 1), None, "A"),
    )
    after, changed = regrouped(before, "ann", "team", "C", D(2026, 1, 15), D(2026, 2, 15))
    assert changed == 2
    assert spans(after, "ann") == [
        (D(2026, 1, 1), D(2026, 1, 15), "A"),
        (D(2026, 1, 15), D(2026, 2, 1), "C"),
        (D(2026, 2, 1), D(2026, 2, 15), "C"),
        (D(2026, 2, 15), None, "B"),
    ]
    assert spans(after, "bob") == [(D(2026, 1, 1), None, "A")]


def test_an_open_ended_correction_and_one_outside_every_placement() -> None:
    before = table(("ann", D(2026, 1, 1), D(2026, 2, 1), "A"))
    after, changed = regrouped(before, "ann", "team", "C", D(2026, 1, 20), None)
    assert (changed, spans(after, "ann")) == (
        1,
        [(D(2026, 1, 1), D(2026, 1, 20), "A"), (D(2026, 1, 20), D(2026, 2, 1), "C")],
    )
    assert regrouped(before, "ann", "team", "C", D(2026, 3, 1), None)[1] == 0
    with pytest.raises(ValueError, match="not a directory level"):
        regrouped(before, "ann", "person", "x", D(2026, 1, 1), None)

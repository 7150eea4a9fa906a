"""The collaboration network's sensitivity: one person, however busy, moves the clipped edge totals
by no more than the bound the noise is calibrated to — every edge and all edges together — and
the mechanism noises every ordered pair of the directory's groups within its budget share.

The neighbouring organisations differ in one person's activity rows and directory row; what
others sent to that person stays (it is their activity). Teeth: with the clipping bound lifted,
the same extreme person is caught moving the network by far more than the bound.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pytest

from teamlens.domain import DIRECTORY_SCHEMA, GroupLevel
from teamlens.errors import InternalError
from teamlens.privacy.network import (
    Edge,
    measure_network,
    network_edges,
    outside_share,
    plan_network,
)
from teamlens.store._collaboration import EDGE_SCHEMA, network_block

WEEKS = tuple(dt.date(2026, 1, 5) + dt.timedelta(days=7 * n) for n in range(4))
DEPARTMENTS = ("Alpha", "Beta", "Gamma", "Delta")
PER_WEEK = 50  # messages one person may send, and receive, per week
BUSY = "p-busy"


def _directory(people: list[str]) -> pa.Table:
    rows = [
        {
            "person": person,
            "valid_from": dt.date(2025, 1, 1),
            "valid_to": None,
            "team": None,
            "department": DEPARTMENTS[index % len(DEPARTMENTS)],
            "division": None,
            "location": None,
        }
        for index, person in enumerate(people)
    ]
    return pa.Table.from_pylist(rows, schema=DIRECTORY_SCHEMA)


def _edges(rows: list[tuple[str, str, dt.date, float]]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"person": a, "partner": b, "day": day, "weight": w, "source": "mail"} for a, b, day, w in rows],
        schema=EDGE_SCHEMA,
    )


def _ordinary(people: list[str], seed: int) -> list[tuple[str, str, dt.date, float]]:
    draw = random.Random(seed)
    rows = []
    for person in people:
        for _ in range(draw.randint(20, 260)):
            day = WEEKS[0] + dt.timedelta(days=draw.randrange(28))
            rows.append((person, draw.choice(people), day, draw.choice((1.0, 0.5, 1 / 3))))
    return rows


def _extreme(
    people: list[str], seed: int
) -> tuple[list[tuple[str, str, dt.date, float]], list[tuple[str, str, dt.date, float]]]:
    """The busy person's own rows (thousands of messages to everyone) and others' heavy rows to them."""
    draw = random.Random(seed)
    own = [(BUSY, draw.choice(people), WEEKS[draw.randrange(4)], 1.0) for _ in range(20_000)]
    own += [(BUSY, people[seed % len(people)], WEEKS[0], 5_000.0)]
    towards = [(person, BUSY, WEEKS[draw.randrange(4)], 400.0) for person in draw.sample(people, 12)]
    return own, towards


def _totals(table: pa.Table) -> dict[tuple[str, str], int]:
    return {(row["source"], row["target"]): row["total"] for row in table.to_pylist()}


def _moved(seed: int, bound: float) -> tuple[np.ndarray, int]:
    people = [f"p{n:03d}" for n in range(60)]
    ordinary = _ordinary(people, seed)
    own, towards = _extreme(people, seed)
    plan = plan_network(GroupLevel.DEPARTMENT, PER_WEEK, len(WEEKS), len(DEPARTMENTS), Fraction(1, 10))
    options = {"level": GroupLevel.DEPARTMENT, "weeks": WEEKS, "bound": bound, "scale": plan.scale}
    with_busy = _totals(
        network_block(_edges(ordinary + own + towards), _directory([*people, BUSY]), **options)
    )
    without = _totals(network_block(_edges(ordinary + towards), _directory(people), **options))
    keys = [(a, b) for a in DEPARTMENTS for b in DEPARTMENTS]
    return np.array([with_busy.get(key, 0) - without.get(key, 0) for key in keys], dtype=float), plan.scale


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_extreme_person_moves_each_edge_and_all_edges_within_the_bound(seed: int) -> None:
    plan = plan_network(GroupLevel.DEPARTMENT, PER_WEEK, len(WEEKS), len(DEPARTMENTS), Fraction(1, 10))
    moved, scale = _moved(seed, plan.bound)
    l1_units = plan.l1_bound * scale
    edges = len(moved)
    assert np.abs(moved).max() <= l1_units + 1  # any edge: within Δ₁ (+1 for flooring)
    assert np.abs(moved).sum() <= l1_units + edges  # all edges together: Δ₁ (+1 per edge)
    assert math.sqrt(float((moved**2).sum())) <= plan.sensitivity  # what the noise is calibrated to
    assert np.abs(moved).sum() > plan.bound * scale / 2  # the busy person does show: the test has a subject


def test_teeth_an_unbounded_person_is_caught() -> None:
    plan = plan_network(GroupLevel.DEPARTMENT, PER_WEEK, len(WEEKS), len(DEPARTMENTS), Fraction(1, 10))
    moved, scale = _moved(1, bound=1e12)  # clipping lifted: the busy person counts in full
    assert np.abs(moved).sum() > plan.l1_bound * scale + len(moved)
    assert math.sqrt(float((moved**2).sum())) > plan.sensitivity


def test_ordinary_people_are_not_clipped_and_unplaced_ends_are_dropped() -> None:
    people = ["a1", "a2", "b1"]
    directory = _directory([*people[:2], "x"])  # a1 Alpha, a2 Beta, x Gamma; b1 is placed nowhere
    rows = [("a1", "a2", WEEKS[0], 3.0), ("a2", "a1", WEEKS[1], 1.5), ("a1", "b1", WEEKS[0], 9.0)]
    found = _totals(
        network_block(_edges(rows), directory, level=GroupLevel.DEPARTMENT, weeks=WEEKS, bound=200, scale=4)
    )
    assert found == {("Alpha", "Beta"): 12, ("Beta", "Alpha"): 6}


def test_the_noise_covers_every_ordered_pair_and_fits_its_budget() -> None:
    groups = [f"g{n:02d}" for n in range(30)]
    plan = plan_network(GroupLevel.DEPARTMENT, PER_WEEK, 4, len(groups), Fraction(1, 20))
    truth = pa.table({"level": ["department"], "source": ["g00"], "target": ["g01"], "total": [10_000]})
    measured = measure_network(plan, truth, groups)
    assert measured.num_rows == 900 and set(measured["sigma"].to_pylist()) == {plan.sigma}
    noise = np.array(measured["noisy"].to_pylist(), dtype=float)
    noise[1] -= 10_000
    assert 0.85 * plan.sigma < noise.std() < 1.15 * plan.sigma  # 900 draws: far inside these limits
    assert plan.sigma >= plan.sensitivity / math.sqrt(2 * float(plan.rho))


def test_teeth_a_plan_with_too_little_noise_or_a_group_from_the_data_is_refused() -> None:
    groups = ["a", "b"]
    plan = plan_network(GroupLevel.DEPARTMENT, PER_WEEK, 4, 2, Fraction(1, 20))
    weak = plan.__class__(**{**plan.__dict__, "sigma": plan.sigma / 2})
    empty = pa.table(
        {
            "source": pa.array([], pa.string()),
            "target": pa.array([], pa.string()),
            "total": pa.array([], pa.int64()),
        }
    )
    with pytest.raises(InternalError, match="budget"):
        measure_network(weak, empty, groups)
    stray = pa.table({"source": ["a"], "target": ["zz"], "total": [1]})
    with pytest.raises(InternalError, match="outside the directory"):
        measure_network(plan, stray, groups)


def test_edges_and_the_outside_share_are_post_processing_with_honest_intervals() -> None:
    rows = {
        "level": ["department"] * 4,
        "source": ["A", "A", "B", "B"],
        "target": ["A", "B", "A", "B"],
        "noisy": [4 * 60 * 8, 4 * 20 * 8, -80, 4 * 100 * 8],
        "sigma": [8.0] * 4,
        "scale": [8] * 4,
        "weeks": [4] * 4,
    }
    edges = {(edge.source, edge.target): edge for edge in network_edges(pa.table(rows), {"A", "B"})}
    assert edges[("A", "A")].value == pytest.approx(60.0) and edges[("A", "B")].value == pytest.approx(20.0)
    low = edges[("B", "A")]
    assert (low.value, low.lower, low.clamped) == (0.0, 0.0, True) and low.upper > 0
    share = outside_share(list(edges.values()), "A")
    assert share is not None and share.value == pytest.approx(0.25) and share.lower < 0.25 < share.upper
    assert network_edges(pa.table(rows), {"A"}) == (edges[("A", "A")],)  # B is not shown: no edge with B
    tiny = [Edge("A", "A", 0.1, 0.1, 0.0, 2.0, 1.0, False, True)]
    assert outside_share(tiny) is None  # a total inside its own noise gives no share

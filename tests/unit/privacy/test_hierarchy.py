"""Reconciliation is the exact least-squares estimate, exactly consistent after rounding.

The oracle is independent: generalised least squares solved densely with NumPy (Aᵀ W A)⁻¹ Aᵀ W y
over the finest groups, for random trees and variances.
"""

from __future__ import annotations

import numpy as np
import pytest

from teamlens.errors import InternalError
from teamlens.privacy.hierarchy import Node, reconcile


def _forest(rng: np.random.Generator, weeks: int) -> tuple[list[Node], list[np.ndarray]]:
    """organisation → departments → teams, and organisation → locations, measured with noise."""
    departments = int(rng.integers(2, 6))
    team_parent = np.sort(rng.integers(0, departments, size=int(rng.integers(departments, 15))))
    team_parent[:departments] = np.arange(departments)  # every department has a team
    locations = int(rng.integers(2, 4))
    truth_team = rng.integers(0, 500, size=(team_parent.size, weeks)).astype(float)
    truth_dept = np.zeros((departments, weeks))
    np.add.at(truth_dept, team_parent, truth_team)
    truth_org = truth_dept.sum(axis=0, keepdims=True)
    shares = rng.dirichlet(np.ones(locations))
    truth_loc = np.outer(shares, truth_org[0])
    variances = rng.uniform(1.0, 400.0, size=4)
    truths = [truth_org, truth_dept, truth_team, truth_loc]
    measured = [
        truth + rng.normal(0, np.sqrt(v), truth.shape) for truth, v in zip(truths, variances, strict=True)
    ]
    nodes = [
        Node(measured[0], variances[0]),
        Node(measured[1], variances[1], 0, np.zeros(departments, dtype=np.int64)),
        Node(measured[2], variances[2], 1, team_parent),
        Node(measured[3], variances[3], 0, np.zeros(locations, dtype=np.int64)),
    ]
    return nodes, truths


def _dense_gls(nodes: list[Node], week: int) -> tuple[np.ndarray, np.ndarray]:
    """Unknowns: every team, and every location but the last (which is the organisation minus the rest)."""
    teams = nodes[2].values.shape[0]
    locations = nodes[3].values.shape[0]
    unknowns = teams + locations - 1
    rows, targets, weights = [], [], []
    everyone = np.r_[np.ones(teams), np.zeros(locations - 1)]
    rows.append(everyone)
    targets.append(nodes[0].values[0, week])
    weights.append(1 / nodes[0].variance)
    for department in range(nodes[1].values.shape[0]):
        rows.append(np.r_[(nodes[2].parent_index == department).astype(float), np.zeros(locations - 1)])
        targets.append(nodes[1].values[department, week])
        weights.append(1 / nodes[1].variance)
    for team in range(teams):
        rows.append(np.eye(unknowns)[team])
        targets.append(nodes[2].values[team, week])
        weights.append(1 / nodes[2].variance)
    for location in range(locations):
        row = (
            np.eye(unknowns)[teams + location]
            if location < locations - 1
            else everyone - np.r_[np.zeros(teams), np.ones(locations - 1)]
        )
        rows.append(row)
        targets.append(nodes[3].values[location, week])
        weights.append(1 / nodes[3].variance)
    a, y, w = np.array(rows), np.array(targets), np.diag(weights)
    covariance = np.linalg.inv(a.T @ w @ a)
    estimate = covariance @ a.T @ w @ y
    # Back to every node: organisation, departments, teams, locations.
    maps = [everyone[None, :]]
    maps.append(
        np.array(
            [
                np.r_[(nodes[2].parent_index == d).astype(float), np.zeros(locations - 1)]
                for d in range(nodes[1].values.shape[0])
            ]
        )
    )
    maps.append(np.eye(unknowns)[:teams])
    last = everyone - np.r_[np.zeros(teams), np.ones(locations - 1)]
    maps.append(np.vstack([np.eye(unknowns)[teams : teams + locations - 1], last[None, :]]))
    mapping = np.vstack(maps)
    return mapping @ estimate, np.diag(mapping @ covariance @ mapping.T)


@pytest.mark.parametrize("seed", range(8))
def test_reconcile_equals_dense_least_squares_and_its_variances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nodes, _ = _forest(rng, weeks=3)
    result = reconcile(nodes)
    for week in range(3):
        expected, variances = _dense_gls(nodes, week)
        got = np.concatenate([level.values[:, week] for level in result])
        # Rounding moves a root by ≤ ½ and each child by < 1 more than its parent moved.
        depth = np.concatenate(
            [
                [0.5],
                np.full(len(result[1].values), 1.5),
                np.full(len(result[2].values), 2.5),
                np.full(len(result[3].values), 1.5),
            ]
        )
        assert np.all(np.abs(got - expected) < depth)
        assert np.allclose(np.concatenate([level.variances for level in result]), variances, rtol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_children_add_up_to_their_parent_exactly_in_every_week(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    nodes, _ = _forest(rng, weeks=5)
    organisation, departments, teams, locations = reconcile(nodes)
    assert organisation.values.dtype == np.int64
    assert np.array_equal(departments.values.sum(axis=0), organisation.values[0])
    assert np.array_equal(locations.values.sum(axis=0), organisation.values[0])
    for department in range(departments.values.shape[0]):
        members = teams.values[nodes[2].parent_index == department]
        assert np.array_equal(members.sum(axis=0), departments.values[department])


def test_reconciled_estimates_are_more_precise_than_the_measurements() -> None:
    rng = np.random.default_rng(3)
    nodes, _ = _forest(rng, weeks=1)
    result = reconcile(nodes)
    for node, level in zip(nodes, result, strict=True):
        assert np.all(level.variances <= node.variance + 1e-12)
    assert np.all(result[1].variances < nodes[1].variance)


def test_levels_that_do_not_nest_are_left_as_measured() -> None:
    values = np.array([[10.4, 20.6], [5.5, 1.2]])
    result = reconcile([Node(values, 4.0), Node(np.array([[3.0, 3.0]]), 9.0)])
    assert np.array_equal(result[0].values, np.rint(values).astype(np.int64))
    assert np.array_equal(result[0].variances, [4.0, 4.0])


def test_exact_mode_values_pass_through_unchanged() -> None:
    departments = np.array([[30.0, 12.0]])
    teams = np.array([[10.0, 2.0], [20.0, 10.0]])
    result = reconcile([Node(departments, 0.0), Node(teams, 0.0, 0, np.array([0, 0]))])
    assert np.array_equal(result[1].values, teams.astype(np.int64))
    assert np.array_equal(result[0].variances, [0.0])


def test_a_parent_without_children_keeps_its_own_measurement() -> None:
    parents = np.array([[100.0], [50.0]])
    children = np.array([[60.0], [35.0]])
    result = reconcile([Node(parents, 1.0), Node(children, 1.0, 0, np.array([0, 0]))])
    assert result[0].values[1, 0] == 50
    assert result[0].values[0, 0] == result[1].values[:, 0].sum()


@pytest.mark.parametrize(
    "nodes",
    [
        [Node(np.zeros(3), 1.0)],
        [Node(np.zeros((2, 1)), 1.0, 0, np.array([0, 0]))],
        [Node(np.zeros((2, 1)), 1.0), Node(np.zeros((2, 1)), 1.0, 0, np.array([0, 5]))],
        [Node(np.zeros((2, 1)), 1.0), Node(np.zeros((2, 2)), 1.0, 0, np.array([0, 1]))],
        [Node(np.zeros((1, 1)), 1.0), Node(np.zeros((1, 1)), 1.0, 0, None)],
        [Node(np.zeros((1, 1)), 0.0), Node(np.zeros((1, 1)), 1.0, 0, np.array([0]))],
    ],
)
def test_malformed_forests_are_refused_as_bugs(nodes: list[Node]) -> None:
    with pytest.raises(InternalError):
        reconcile(nodes)

"""Add OpenDP's discrete Gaussian noise to clipped group totals, one vector per planned cell.

Every group of the level gets a noisy total in every cell, whether or not anyone in it had
data: a missing aggregate is a true total of 0. So an empty group, a group of one and a group
of k−1 leave the engine in exactly the same shape (attacks A7, A9), and the noise on the
vector of all groups' totals is calibrated to one person's contribution (the cell's bound).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from teamlens.domain import AGGREGATE_SCHEMA, HEADCOUNT, NOISY_SCHEMA
from teamlens.errors import InternalError
from teamlens.privacy._opendp import add_discrete_gaussian, zcdp_cost
from teamlens.privacy.plan import CellPlan, ReleasePlan
from teamlens.privacy.testing import exact_mode_active

_Cell = tuple[str, str]


def add_noise(plan: ReleasePlan, aggregates: pa.Table, groups: Sequence[str]) -> pa.Table:
    """Return ``NOISY_SCHEMA`` rows for every group × planned cell, noised by OpenDP.

    ``aggregates`` holds the store's clipped true totals (``AGGREGATE_SCHEMA``, headcount rows
    included) for the plan's cells only; ``groups`` is every group of the level, taken from the
    directory and never from the data. Raises ``InternalError`` when a row names a group or
    cell outside these, when a total breaks its clipping bound, or when the plan's noise does
    not fit its budget.
    """
    _check_groups(groups)
    exact = exact_mode_active()
    for cell in plan.cells:
        _check_cell_noise(cell, exact)
    totals = _true_totals(plan, aggregates, groups)

    columns: dict[str, list[object]] = {name: [] for name in NOISY_SCHEMA.names}
    for cell in plan.cells:
        key = (cell.window.key, cell.metric)
        vector = [totals.get((group, *key), 0) for group in groups]
        noisy = vector if exact else add_discrete_gaussian(vector, cell.sigma)
        columns["group"].extend(groups)
        columns["window"].extend([cell.window.key] * len(groups))
        columns["metric"].extend([cell.metric] * len(groups))
        columns["noisy_total"].extend(noisy)
        columns["sigma"].extend([cell.sigma] * len(groups))
    return pa.Table.from_pydict(columns, schema=NOISY_SCHEMA)


def _check_groups(groups: Sequence[str]) -> None:
    if isinstance(groups, str):
        raise InternalError("add_noise was given one string instead of a list of groups")
    if len(set(groups)) != len(groups):
        # A group listed twice would get two independent noisy answers: twice the privacy loss.
        raise InternalError("the group list given to add_noise names a group more than once")


def _check_cell_noise(cell: CellPlan, exact: bool) -> None:
    if exact:
        if cell.sigma != 0.0 or cell.rho != 0:
            raise InternalError("a noisy plan was passed to add_noise inside exact mode; plan inside it too")
        return
    if not cell.sigma > 0.0:
        # A noise-free plan must never reach real data: it would publish true totals.
        raise InternalError("a plan without noise was passed to add_noise outside exact mode")
    if zcdp_cost(cell.sigma, cell.bound) > cell.rho:
        raise InternalError(
            f"the noise planned for window '{cell.window.key}', metric '{cell.metric}' "
            "costs more than the cell's budget"
        )


def _true_totals(
    plan: ReleasePlan, aggregates: pa.Table, groups: Sequence[str]
) -> dict[tuple[str, str, str], int]:
    """Read the aggregate table into {(group, window, metric): total}, checking every row."""
    missing = set(AGGREGATE_SCHEMA.names) - set(aggregates.column_names)
    if missing:
        raise InternalError(f"the aggregate table lacks the column(s) {', '.join(sorted(missing))}")
    try:
        table = aggregates.select(AGGREGATE_SCHEMA.names).cast(AGGREGATE_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        raise InternalError("the aggregate table does not have the aggregate schema") from None
    known_groups = set(groups)
    planned: dict[_Cell, CellPlan] = {(cell.window.key, cell.metric): cell for cell in plan.cells}
    totals: dict[tuple[str, str, str], int] = {}
    for row in table.to_pylist():
        group, window, metric, total = row["group"], row["window"], row["metric"], row["total"]
        # Messages name windows and metrics (policy settings) but never a group.
        if group not in known_groups:
            raise InternalError("an aggregate row names a group that is not in the level's group list")
        cell = planned.get((window, metric))
        if cell is None:
            raise InternalError(
                f"an aggregate row names window '{window}', metric '{metric}', not in the plan"
            )
        if (group, window, metric) in totals:
            raise InternalError(f"two aggregate rows for one group in window '{window}', metric '{metric}'")
        if total < 0:
            raise InternalError(f"a negative clipped total in window '{window}', metric '{metric}'")
        totals[(group, window, metric)] = total
    _check_clipping(planned, totals)
    return totals


def _check_clipping(planned: dict[_Cell, CellPlan], totals: dict[tuple[str, str, str], int]) -> None:
    """Refuse totals larger than bound × true headcount: the store did not clip (attack A13c)."""
    for (group, window, metric), total in totals.items():
        if metric == HEADCOUNT:
            continue
        headcount = totals.get((group, window, HEADCOUNT))
        cell = planned.get((window, metric))
        if headcount is not None and cell is not None and total > cell.bound * headcount:
            raise InternalError(
                f"a total in window '{window}', metric '{metric}' exceeds its clipping bound × headcount"
            )

"""Make noisy totals consistent across nested levels: weighted least squares, then controlled rounding.

Each measured level is a vector of noisy group totals (one column per week) with one known
noise variance. Where the directory nests a level inside a coarser one (every team inside one
department), the true totals obey parent = Σ children, and the least-squares estimate under
those constraints is both consistent and more accurate than either measurement alone. On a
tree it is computed exactly in two passes (Hay et al., "Boosting the accuracy of
differentially private histograms through consistency", 2010, generalised to unequal
variances): bottom-up, each node combines its own measurement with the sum of its children's
subtree estimates by inverse variance; top-down, each child takes its share of the parent's
final estimate in proportion to its subtree variance. A node may have children in more than
one partition (the organisation splits into departments and, separately, into locations).

Then the estimates are rounded to whole fixed-point units without losing consistency: a root
is rounded to the nearest integer and each parent's integer is shared among its children by
largest remainder, so children add up to their parent exactly. Everything here is
post-processing of noisy measurements: it costs no budget and reads no data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from teamlens.errors import InternalError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Node:
    """One level of the forest: its noisy totals and where each group sits in a coarser level.

    ``values`` has one row per group and one column per week; every entry has noise variance
    ``variance``. ``parent`` is the index of the coarser level this one nests in (always an
    earlier entry of the list handed to ``reconcile``) and ``parent_index`` maps each group to
    its parent group's row, or both are None when the level nests in nothing measured.
    """

    values: FloatArray
    variance: float
    parent: int | None = None
    parent_index: IntArray | None = None


@dataclass(frozen=True)
class Reconciled:
    """One level's consistent integer estimates and the variance of each group's estimate."""

    values: IntArray
    variances: FloatArray


def reconcile(levels: Sequence[Node]) -> list[Reconciled]:
    """Return consistent, integer estimates for every level (see the module docstring).

    Levels must be listed coarse before fine (a level's parent comes earlier). With every
    variance 0 (exact mode) the measurements are returned unchanged.
    """
    _check(levels)
    if all(level.variance == 0 for level in levels):
        return [
            Reconciled(np.rint(level.values).astype(np.int64), np.zeros(level.values.shape[0]))
            for level in levels
        ]
    if any(level.variance <= 0 for level in levels):
        raise InternalError("a noisy and a noise-free level were reconciled together")
    z, u = _upward(levels)
    estimates, variances = _downward(levels, z, u)
    return [
        Reconciled(values, variance)
        for values, variance in zip(_round(levels, estimates), variances, strict=True)
    ]


def _check(levels: Sequence[Node]) -> None:
    for position, level in enumerate(levels):
        if level.values.ndim != 2:
            raise InternalError("reconcile() needs one row per group and one column per week")
        if (level.parent is None) != (level.parent_index is None):
            raise InternalError("a level names a parent level without a parent index, or the reverse")
        if level.parent is not None and level.parent_index is not None:
            if not 0 <= level.parent < position:
                raise InternalError("a level's parent must be listed before it")
            parent_rows = levels[level.parent].values.shape[0]
            index = level.parent_index
            if index.shape != (level.values.shape[0],) or (
                index.size and (index.min() < 0 or index.max() >= parent_rows)
            ):
                raise InternalError("a parent index does not map every group to a parent group")
            if level.values.shape[1] != levels[level.parent].values.shape[1]:
                raise InternalError("nested levels must have the same weeks")


def _children(levels: Sequence[Node], position: int) -> list[int]:
    return [index for index, level in enumerate(levels) if level.parent == position]


def _upward(levels: Sequence[Node]) -> tuple[list[FloatArray], list[FloatArray]]:
    """Subtree estimates z and their variances u, finest levels first."""
    z: list[FloatArray] = [level.values.astype(np.float64) for level in levels]
    u: list[FloatArray] = [np.full(level.values.shape[0], level.variance) for level in levels]
    for position in reversed(range(len(levels))):
        precision = np.full(levels[position].values.shape[0], 1.0 / levels[position].variance)
        weighted = z[position] * precision[:, None]
        for child in _children(levels, position):
            total, variance = _sums(levels[child], z[child], u[child], levels[position].values.shape[0])
            has = variance > 0
            precision = precision + np.where(has, 1.0 / np.where(has, variance, 1.0), 0.0)
            weighted = weighted + np.where(has[:, None], total / np.where(has, variance, 1.0)[:, None], 0.0)
        z[position] = weighted / precision[:, None]
        u[position] = 1.0 / precision
    return z, u


def _sums(child: Node, z: FloatArray, u: FloatArray, parents: int) -> tuple[FloatArray, FloatArray]:
    """Per parent group: the sum of its children's subtree estimates and of their variances."""
    assert child.parent_index is not None
    total = np.zeros((parents, z.shape[1]))
    np.add.at(total, child.parent_index, z)
    variance: FloatArray = np.bincount(child.parent_index, weights=u, minlength=parents).astype(np.float64)
    return total, variance


def _downward(
    levels: Sequence[Node], z: list[FloatArray], u: list[FloatArray]
) -> tuple[list[FloatArray], list[FloatArray]]:
    """Final estimates and their variances, coarsest levels first."""
    estimates: list[FloatArray] = list(z)
    variances: list[FloatArray] = list(u)
    for position, level in enumerate(levels):
        if level.parent is None or level.parent_index is None:
            continue  # a root keeps its subtree estimate
        parent_rows = levels[level.parent].values.shape[0]
        total, summed = _sums(level, z[position], u[position], parent_rows)
        share = u[position] / summed[level.parent_index]
        gap = estimates[level.parent][level.parent_index] - total[level.parent_index]
        estimates[position] = z[position] + share[:, None] * gap
        variances[position] = (
            u[position] - share * u[position] + share**2 * variances[level.parent][level.parent_index]
        )
    return estimates, variances


def _round(levels: Sequence[Node], estimates: list[FloatArray]) -> list[IntArray]:
    """Integers that keep every parent equal to the sum of its children (largest remainder)."""
    rounded: list[IntArray] = []
    for position, level in enumerate(levels):
        if level.parent is None or level.parent_index is None:
            rounded.append(np.rint(estimates[position]).astype(np.int64))
            continue
        rounded.append(_share_out(rounded[level.parent], estimates[position], level.parent_index))
    return rounded


def _share_out(parent: IntArray, children: FloatArray, index: IntArray) -> IntArray:
    """Round ``children`` so that, per parent and week, they add up to the parent's integer."""
    floors = np.floor(children)
    result = floors.astype(np.int64)
    fractions = children - floors
    for week in range(children.shape[1]):
        short = parent[:, week] - np.bincount(index, weights=floors[:, week], minlength=parent.shape[0])
        short = np.rint(short).astype(np.int64)
        count = np.bincount(index, minlength=parent.shape[0])
        whole, extra = np.divmod(short, np.maximum(count, 1))
        # Rank each child among its siblings by fractional part, largest first (ties: row order).
        order = np.lexsort((np.arange(index.size), -fractions[:, week], index))
        first_of_parent = np.searchsorted(index[order], index[order], side="left")
        rank = np.empty(index.size, dtype=np.int64)
        rank[order] = np.arange(index.size) - first_of_parent
        result[:, week] += whole[index] + (rank < extra[index])
    return result

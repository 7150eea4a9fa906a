"""Checks of what ``services.release`` really measured and published, against the store's exact truth.

The teeth these serve weaken the release engine partly and on the product's own path (a release
through the service into a real installation), where switching noise off would be too blunt a
test: the noise is there but at half its scale, drawn once and used twice, or missing while the
reported σ stays. Each check reads the kept measurements or the published cells, recomputes the
exact clipped totals from the store (``store_truth``: the aggregation the service measured), and
compares with the σ the *plan* calibrated, never with the σ the release reports about itself.

Weakened samplers for ``teamlens.privacy.noise.add_discrete_gaussian`` are here too; every one
keeps the σ the measurement rows record, so only the noise itself is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from teamlens.domain import HEADCOUNT, GroupLevel, Policy, ReleasedTable, Window, metric
from teamlens.privacy import Block, Strategy
from teamlens.privacy._opendp import add_discrete_gaussian
from teamlens.services import Workspace

from .replicas import Key, sigma_of, store_truth

Sampler = Callable[[Sequence[int], float], list[int]]


def kept_residuals(ws: Workspace, policy: Policy, blocks: Sequence[Block]) -> dict[Key, float]:
    """Each kept measurement of ``blocks`` minus its exact store total, in units of the plan's σ.

    Raises ``AssertionError`` when a measurement row reports a σ other than the plan's: the
    residuals are only meaningful against the σ the budget was charged for.
    """
    strategy = Strategy.for_policy(policy)
    truth = store_truth(ws, strategy, blocks)
    kept = ws.governance.measurements(policy.policy_id, policy.period_start, [b.key for b in blocks])
    residuals: dict[Key, float] = {}
    for row in kept.to_pylist():
        key = (row["level"], row["group"], row["week"], row["metric"])
        sigma = sigma_of(strategy, key)
        assert row["sigma"] == sigma, (key, row["sigma"], sigma)
        residuals[key] = (row["noisy"] - truth.get(key, 0)) / sigma
    return residuals


def variance_ratio(residuals: dict[Key, float]) -> float:
    """The residuals' mean square: 1 when the noise has the plan's σ (discrete Gaussian, σ ≫ 1)."""
    values = np.array(list(residuals.values()))
    assert len(values) >= 500, f"only {len(values)} measurements: too few to judge the noise scale"
    return float(np.mean(values**2))


def reuse_correlation(ws: Workspace, first: Block, second: Block, residuals: dict[Key, float]) -> float:
    """The correlation of two blocks' noise, entry by entry, the way the sampler saw each vector.

    ``measure_block`` lays a (level, metric) vector out as the directory's groups × the block's
    weeks; entry i of one block's vector is paired with entry i of the other's (the layout a
    sampler that repeats its draws would repeat them in). Headcounts are measured once per span
    and left out. Independent noise gives a correlation within a few 1/√n of 0.
    """
    pairs: list[tuple[float, float]] = []
    vectors = {(level, name) for level, _, _, name in residuals if name != HEADCOUNT}
    for level, name in sorted(vectors):
        groups = ws.store.groups(level)
        one = [residuals[(level, g, w, name)] for g in groups for w in first.weeks]
        two = [residuals[(level, g, w, name)] for g in groups for w in second.weeks]
        pairs.extend(zip(one, two, strict=False))
    assert len(pairs) >= 200, f"only {len(pairs)} pairs: too few to judge independence"
    a, b = np.array(pairs).T
    return float(np.corrcoef(a, b)[0, 1])


def released_scores(ws: Workspace, policy: Policy, tables: Sequence[ReleasedTable]) -> list[float]:
    """Each shown cell's released total minus its exact store total, over the SD the cell reports.

    A cell's total is its window's sum of the reconciled weekly totals, so its error against the
    exact clipped total is normal with the reported ``sd_total`` when the noise is honest.
    """
    strategy = Strategy.for_policy(policy)
    scores = []
    for table in tables:
        level = GroupLevel(table.level)
        windows = {key: Window.parse(key) for key in table.windows}
        blocks = strategy.blocks_for(list(windows.values()))
        truth = store_truth(ws, strategy, blocks)
        for cell in table.cells:
            if cell.total is None or cell.sd_total is None:
                continue  # suppressed: nothing released to compare
            plan = strategy.metric_plan(level, cell.metric)
            exact = sum(
                truth.get((level.value, cell.group, week, cell.metric), 0)
                for week in windows[cell.window].weeks
            )
            exact /= plan.scale * metric(cell.metric).display_divisor
            scores.append((cell.total - exact) / cell.sd_total)
    assert len(scores) >= 30, f"only {len(scores)} released totals: too few to judge the noise"
    return scores


# -- weakened samplers (teeth) --------------------------------------------------------------------


def half_sigma(totals: Sequence[int], sigma: float) -> list[int]:
    """OpenDP's sampler at half the planned scale; the rows still record the planned σ."""
    return add_discrete_gaussian(totals, sigma / 2)


def no_noise(totals: Sequence[int], sigma: float) -> list[int]:
    """The exact totals; the rows still record the planned σ (so the cells report their usual SD)."""
    return list(totals)


def reused_draws() -> Sampler:
    """OpenDP's noise, drawn once per σ and entry position and reused by every later vector.

    The draws are honest one at a time (right scale, right distribution); what breaks is their
    independence across measurements, as with a sampler seeded per policy or per metric.
    """
    draws: dict[float, list[int]] = {}

    def sample(totals: Sequence[int], sigma: float) -> list[int]:
        kept = draws.setdefault(sigma, [])
        if len(kept) < len(totals):
            kept.extend(add_discrete_gaussian([0] * (len(totals) - len(kept)), sigma))
        return [total + noise for total, noise in zip(totals, kept, strict=False)]

    return sample

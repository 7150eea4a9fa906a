"""Broken release engines the empirical auditor must catch (its teeth, ``test_auditor.py``).

- ``half_sigma``: OpenDP's sampler called with half the configured noise scale.
- ``leaky_consistency``: consistency forced onto the unnoised totals of the coarsest level.
- ``CarriedHeadcounts``: a later headcount span's counts carried over from the first span's noisy
  ones plus the exact joiners and leavers, without fresh noise or charge. A plain reuse of the
  first span's noisy count would be post-processing and leak nothing; the update with the true
  membership change is what leaks, and only jointly with the first span's release.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pyarrow as pa

from teamlens.domain import HEADCOUNT
from teamlens.privacy import Block, Strategy, estimate
from teamlens.privacy import noise as noise_module
from teamlens.privacy._opendp import add_discrete_gaussian

from .replicas import Key, Runs


def half_sigma(totals: Sequence[int], sigma: float) -> list[int]:
    return add_discrete_gaussian(totals, sigma / 2)


def leaky_consistency(runs: Runs) -> Callable[..., dict]:
    """Teeth (a): consistency forced onto the *unnoised* totals of the coarsest level.

    The coarsest level's totals are taken from the aggregates (as if large totals needed no
    noise) and each parent's children are shifted equally to add up to them.
    """
    exact: dict[Key, int] = {}
    for table in runs.aggregates.values():
        for row in table.to_pylist():
            exact[(row["level"], row["group"], row["week"], row["metric"])] = row["total"]

    def reconcile(strategy: Strategy, block: Block, measurements: pa.Table, structure: pa.Table) -> dict:
        found = estimate.reconcile_block(strategy, block, measurements, structure)
        top = strategy.levels[0]
        parents = {
            row["group"]: row["parent_group"]
            for row in structure.to_pylist()
            if row["parent_level"] == top.value
        }
        for (level, name), series in list(found.items()):
            if level is not top:
                continue
            values = np.array(
                [
                    [exact.get((level.value, group, week, name), 0) for week in series.weeks]
                    for group in series.groups
                ]
            )
            found[(level, name)] = replace(series, values=values)
            for (child_level, child_name), child in list(found.items()):
                if child_level is level or child_name != name:
                    continue
                rows = [parents.get(group) for group in child.groups]
                gap = {
                    parent: values[series.rows[parent]].copy()
                    for parent in set(rows)
                    if parent in series.rows
                }
                for index, parent in enumerate(rows):
                    if parent in gap:
                        gap[parent] = gap[parent] - child.values[index]
                counts = {parent: rows.count(parent) for parent in gap}
                moved = child.values.copy()
                for index, parent in enumerate(rows):
                    if parent in gap:
                        moved[index] = moved[index] + gap[parent] // counts[parent]
                found[(child_level, child_name)] = replace(child, values=moved)
        return found

    return reconcile


class CarriedHeadcounts:
    """Teeth (b): a later span's headcounts are the first span's noisy ones, rescaled to the span's
    first block, plus the exact joiners and leavers — no fresh noise and no charge.

    Called like ``measure_block``: the first span is measured honestly and remembered; every later
    span's person-weeks become its true count plus the first span's noise, rescaled.
    """

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], tuple[int, int, int, float]] = {}

    def __call__(self, strategy: Strategy, block: Block, aggregates: pa.Table, groups: Mapping) -> pa.Table:
        rows = noise_module.measure_block(strategy, block, aggregates, groups)
        true = {
            (row["level"], row["group"]): row["total"]
            for row in aggregates.to_pylist()
            if row["metric"] == HEADCOUNT
        }
        frame = rows.to_pandas()
        counts = frame["metric"] == HEADCOUNT
        if not counts.any():
            return rows
        if not self.first:
            for row in frame[counts].itertuples():
                key = (row.level, row.group)
                self.first[key] = (row.noisy, true.get(key, 0), block.n_weeks, row.sigma)
            return rows
        carried, sigmas = [], []
        for row in frame[counts].itertuples():
            noisy, truth, weeks, sigma = self.first[(row.level, row.group)]
            ratio = block.n_weeks / weeks
            carried.append(true.get((row.level, row.group), 0) + round((noisy - truth) * ratio))
            sigmas.append(sigma * ratio)
        frame.loc[counts, "noisy"] = carried
        frame.loc[counts, "sigma"] = sigmas
        return pa.Table.from_pandas(frame, schema=rows.schema, preserve_index=False)

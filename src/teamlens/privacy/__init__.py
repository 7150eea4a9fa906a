"""The differentially private release engine: plan the catalogue, measure blocks, derive numbers.

A release runs in four steps that ``teamlens.services`` strings together with the store and the
ledger. ``Strategy.for_policy(policy)`` plans, from the policy alone, the base measurements the
whole catalogue needs — weekly totals per level and metric, clipped in L2 per clipping block,
and headcounts per span — with their OpenDP-calibrated noise and exact cost per block;
``check_budget(total, spent, cost)`` refuses what the ledger cannot pay. ``ReleaseSpec.build``
checks a request against the catalogue. The store aggregates a block's clipped fixed-point
totals; ``measure_block(strategy, block, aggregates, groups)`` adds OpenDP's discrete Gaussian
noise to every base vector (missing groups count as 0). Everything after is post-processing:
``reconcile_block``/``reconcile_span`` make the measurements consistent across nested levels by
least squares, and ``assemble`` turns them into weekly means per person with 95% intervals
(one-sided at the edges), suppressing groups under k.

- For the base measurements, their noise and budget, see ``strategy``.
- For noise on a block's vectors, see ``noise`` (the only OpenDP calls are in ``_opendp``).
- For consistency across levels, see ``hierarchy`` (least squares) and ``estimate``.
- For means, intervals and suppression, see ``assemble`` and ``intervals``.
- For the canonical release request, see ``spec``; for budget checks and (ε, δ), ``budget``.
- For the planner's expected error bars, see ``accuracy``.
- For the team-to-team collaboration network (L1-bounded per person, its sensitivity stated),
  see ``network``.
- Nothing here releases without noise: noise-free answers for tests are patched in by the test
  suite (``tests/support/exact.py``), never switched on from this package.
"""

from teamlens.privacy.accuracy import expected_half_width
from teamlens.privacy.assemble import assemble, per_week_ceiling, typical_value
from teamlens.privacy.budget import check_budget, rho_to_epsilon
from teamlens.privacy.estimate import Series, reconcile_block, reconcile_span, variance_factors
from teamlens.privacy.intervals import Intervals, ratio_intervals
from teamlens.privacy.noise import measure_block
from teamlens.privacy.spec import ReleaseSpec
from teamlens.privacy.strategy import Block, HeadcountPlan, MetricPlan, Span, Strategy

__all__ = [
    "Block",
    "HeadcountPlan",
    "Intervals",
    "MetricPlan",
    "ReleaseSpec",
    "Series",
    "Span",
    "Strategy",
    "assemble",
    "check_budget",
    "expected_half_width",
    "measure_block",
    "per_week_ceiling",
    "ratio_intervals",
    "reconcile_block",
    "reconcile_span",
    "rho_to_epsilon",
    "typical_value",
    "variance_factors",
]

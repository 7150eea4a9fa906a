"""The differentially private release engine: plan, check the budget, add noise, assemble.

A release runs in four steps that ``teamlens.services`` strings together with the store and
the ledger. ``ReleaseSpec.build(policy, report_id, windows, metrics)`` checks a request
against the approved catalogue without touching data. ``plan_release(policy, spec,
already_released)`` lists the cells not yet cached, each with its clipping bound, exact ρ
and OpenDP-calibrated σ, and the plan's exact ``cost``; ``check_budget(total, spent, cost)``
refuses what the ledger cannot pay. The store aggregates clipped totals with ``plan.bounds``;
``add_noise(plan, aggregates, groups)`` adds OpenDP discrete Gaussian noise to every group of
the level (missing groups count as 0); ``assemble(...)`` turns noisy totals, cached and new,
into weekly means per person with 95% intervals, suppressing groups under k.

- For the canonical release request and its key, see ``spec``.
- For the budget split, budget checks and (ε, δ) equivalents, see ``budget``.
- For planning cells, bounds and noise scales, see ``plan``.
- For noise on group totals, see ``noise`` (the only OpenDP calls are in ``_opendp``).
- For means, intervals and suppression, see ``assemble``.
- For the planner's expected error bars, see ``accuracy``.
- For noise-free answers in tests only, see ``testing.exact_mode``.
"""

from teamlens.privacy.accuracy import expected_half_width
from teamlens.privacy.assemble import assemble
from teamlens.privacy.budget import check_budget, rho_to_epsilon
from teamlens.privacy.noise import add_noise
from teamlens.privacy.plan import CellPlan, ReleasePlan, plan_release
from teamlens.privacy.spec import ReleaseSpec

__all__ = [
    "CellPlan",
    "ReleasePlan",
    "ReleaseSpec",
    "add_noise",
    "assemble",
    "check_budget",
    "expected_half_width",
    "plan_release",
    "rho_to_epsilon",
]

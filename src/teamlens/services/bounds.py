"""Suggest per-week bounds from data, paying for it from the policy's ``bounds_share`` of ρ.

``suggest_bounds`` measures, over one completed clipping block, how busy people are on each
metric (a noisy histogram of each person's weekly root-mean-square: see ``privacy.bounds``),
charges the ledger, records the findings in the audit log, and returns for each metric the
bound that minimises the expected error of the means the catalogue publishes (each report at
its level's typical group size and window length, weighted by its budget share), with what the
current and the suggested bound would clip and how wide a typical monthly figure's interval
would be at the finest level. Nothing changes until both
parties approve a new policy version with the new bounds.
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
from dataclasses import dataclass

from teamlens.domain import METRICS, GroupLevel, Policy, Rho
from teamlens.errors import ReleaseError
from teamlens.privacy import Block, Strategy, check_budget
from teamlens.privacy.bounds import (
    Spread,
    noisy_histograms,
    plan_bounds,
    relative_noise,
    spread,
    suggest_bound,
)
from teamlens.privacy.intervals import Z95
from teamlens.services.workspace import Workspace


@dataclass(frozen=True)
class MetricSuggestion:
    """One metric: its current and suggested per-week bounds, in display units, and what each implies."""

    metric: str
    label: str
    unit: str
    current: float
    suggested: float
    median: float
    p90: float
    clipped_now: float  # share of activity the current bound clips
    clipped_suggested: float
    error_now: float  # 95% half-width of a typical monthly mean, relative to it
    error_suggested: float


@dataclass(frozen=True)
class BoundsSuggestion:
    """What ``suggest_bounds`` found: measured over ``block`` at a cost of ``rho``."""

    release_id: str
    policy_id: str
    block: str
    group_size: int
    rho: float
    metrics: tuple[MetricSuggestion, ...]

    def toml(self) -> str:
        """The ``[[metrics]]`` tables with the suggested bounds, ready to paste into a new version."""
        return "\n".join(
            f'[[metrics]]\nname = "{item.metric}"\nper_week = {_shown(item.suggested)}\n'
            for item in self.metrics
        )


def _shown(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def _nice(value: float, divisor: int) -> float:
    """Two significant figures in display units; counts stay whole."""
    shown = value / divisor
    rounded = float(f"{shown:.2g}")
    return max(1.0, round(rounded)) if divisor == 1 else max(rounded, 1 / 60)


def suggest_bounds(ws: Workspace, *, block: str | None = None, actor: str) -> BoundsSuggestion:
    """Measure the spread of every metric over one completed block and suggest bounds (charged)."""
    active = ws.governance.require_active_policy("suggest bounds")
    policy = active.policy
    strategy = Strategy.for_policy(policy)
    pilot = _pilot(strategy, block, set(ws.store.stats().months))
    spent = ws.governance.spent_on_bounds(policy.policy_id, policy.period_start)
    share = policy.design.bounds_share - spent.value / policy.rho.value
    if share <= 0:
        raise ReleaseError(
            f"policy '{policy.policy_id}' has no budget left for suggesting bounds "
            f"(bounds_share {float(policy.design.bounds_share):g} of ρ, all spent)"
            if policy.design.bounds_share
            else f"policy '{policy.policy_id}' sets no budget for suggesting bounds",
            'Add `bounds_share = "0.05"` to the policy\'s [privacy] table, lowering the report shares '
            "to make room, in a new version both parties approve.",
        )
    plan = plan_bounds(policy, share)
    spent_all = ws.governance.spent(policy.policy_id, policy.period_start, policy.period_end)
    check_budget(policy.rho, spent_all, Rho(plan.cost))
    counts = ws.store.rms_histogram(
        weeks=pilot.weeks, edges=plan.edges, exclude=ws.governance.excluded_persons(pilot.start)
    )
    noisy = noisy_histograms(plan, counts)
    sizes = {level: _typical_size(ws, policy, level, pilot) for level in strategy.levels}
    size = int(sizes[strategy.levels[-1]])
    found = tuple(
        _suggestion(strategy, spread(plan, name, noisy[name]), size, sizes) for name in plan.metrics
    )
    release_id = f"b-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    ws.governance.record_bounds(
        release_id=release_id,
        active=active,
        block_key=pilot.key,
        rho=Rho(plan.cost),
        details={
            "group_size": size,
            "suggestions": {
                item.metric: {"current": item.current, "suggested": item.suggested, "median": item.median}
                for item in found
            },
        },
        actor=actor,
    )
    return BoundsSuggestion(release_id, policy.policy_id, pilot.key, size, float(plan.cost), found)


def _pilot(strategy: Strategy, key: str | None, stored_months: set[str]) -> Block:
    """The block named, or the period's first that has ended and has facts stored for its weeks.

    The first: bounds are best set early, and a later block may still be filling up.
    """
    today = dt.datetime.now(dt.UTC).date()
    ended = [block for block in strategy.blocks if block.end <= today]
    if key is not None:
        chosen = [block for block in ended if block.key == key]
        if not chosen:
            known = ", ".join(block.key for block in ended) or "none yet"
            raise ReleaseError(
                f"'{key}' is not a completed clipping block of the policy period",
                f"Name one that has ended: {known}.",
            )
        return chosen[0]
    with_data = [block for block in ended if {f"{week:%Y-%m}" for week in block.weeks} & stored_months]
    if not with_data:
        raise ReleaseError(
            "no clipping block of the policy period has both ended and had activity ingested, "
            "so there is nothing to measure",
            f"Ingest a completed block's exports first (the first ends {strategy.blocks[0].end}).",
        )
    return with_data[0]


def _typical_size(ws: Workspace, policy: Policy, level: GroupLevel, pilot: Block) -> int:
    """The median size of the groups shown at ``level`` (from the directory, not from activity)."""
    sizes = ws.store.group_sizes(level.value, pilot.start)
    shown = [size for size in sizes.values() if size >= policy.min_group_size]
    return int(statistics.median(shown)) if shown else 2 * policy.min_group_size


def _suggestion(
    strategy: Strategy, found: Spread, size: int, sizes: dict[GroupLevel, int]
) -> MetricSuggestion:
    policy = strategy.policy
    definition = METRICS[found.metric]
    divisor = definition.display_divisor
    current = float(policy.metric_bound(found.metric).per_week)
    best = _nice(suggest_bound(strategy, found, sizes), divisor) * divisor
    mean = found.mean

    def error(bound: float) -> float:
        return Z95 * relative_noise(strategy, found.metric, bound, size, mean)

    return MetricSuggestion(
        metric=found.metric,
        label=definition.label,
        unit=definition.display_unit,
        current=current / divisor,
        suggested=best / divisor,
        median=found.quantile(0.5) / divisor,
        p90=found.quantile(0.9) / divisor,
        clipped_now=found.clipped_share(current),
        clipped_suggested=found.clipped_share(best),
        error_now=error(current),
        error_suggested=error(best),
    )

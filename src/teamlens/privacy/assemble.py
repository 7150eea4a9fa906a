"""Turn noisy totals into what people read: weekly means per person, 95% intervals, suppression.

Everything here is post-processing of already-noised numbers, so it costs no budget. A group
whose noisy headcount is under the policy's minimum size is suppressed with no value and no
interval, the same whatever the reason (attacks A7, A9); the decision uses the noisy count,
never the true one.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pyarrow as pa

from teamlens.domain import (
    HEADCOUNT,
    MIN_GROUP_SIZE_FLOOR,
    NOISY_SCHEMA,
    MetricNoise,
    Policy,
    ReleasedCell,
    ReleasedTable,
    Rho,
    Window,
    metric,
)
from teamlens.errors import InternalError
from teamlens.privacy.accuracy import Z95, ratio_sd
from teamlens.privacy.spec import ReleaseSpec

_Key = tuple[str, str, str]  # (group, window, metric)


@dataclass(frozen=True)
class _Scale:
    """How one metric in one window maps a per-person total to a displayed weekly value."""

    bound: int  # per-person clipping bound for the window, stored units
    per_window: int  # n_weeks × display divisor: stored total per person → display per week
    ceiling: float  # per-week bound in display units

    def clamp(self, value: float) -> float:
        return min(max(value, 0.0), self.ceiling)


def assemble(
    policy: Policy,
    spec: ReleaseSpec,
    noisy: pa.Table,
    *,
    release_id: str,
    released_at: dt.datetime,
    rho_charged: Rho,
) -> ReleasedTable:
    """Build the released table of ``spec`` from noisy totals (cached and new alike).

    ``noisy`` (``NOISY_SCHEMA``) must hold, for every group, each of the spec's (window,
    metric) cells and each window's ``HEADCOUNT``; rows for other cells are ignored. Raises
    ``InternalError`` when a needed row is missing or the σ of one cell differs between groups.
    """
    if policy.min_group_size < MIN_GROUP_SIZE_FLOOR:
        raise InternalError("the approved policy's minimum group size is below the floor of 5")
    totals, sigmas = _read(spec, noisy)
    windows = {window.key: window for window in spec.windows}
    cells: list[ReleasedCell] = []
    for window in spec.windows:
        scales = {name: _scale(policy, name, window) for name in spec.metrics}
        # A group that joined the directory after this window's headcount was released has no
        # noisy headcount: it is shown as suppressed, like any group too small to show.
        groups = sorted({group for group, key, _ in totals if key == window.key})
        for group in groups:
            count = totals.get((group, window.key, HEADCOUNT), 0)
            for name in spec.metrics:
                total = totals.get((group, window.key, name))
                if total is None:
                    raise InternalError(
                        f"a group lacks a noisy total in window '{window.key}', metric '{name}'"
                    )
                if count < policy.min_group_size:
                    cells.append(ReleasedCell(group, window.key, name, None, None, None))
                    continue
                sigma_t = sigmas[(window.key, name)]
                sigma_c = sigmas[(window.key, HEADCOUNT)]
                cells.append(_mean_cell(group, window, name, total, count, sigma_t, sigma_c, scales[name]))
    noise = tuple(
        MetricNoise(name, key, sigmas[(key, name)], _bound(policy, name, windows[key]))
        for key in windows
        for name in (*spec.metrics, HEADCOUNT)
    )
    return ReleasedTable(
        release_id=release_id,
        report_id=spec.report_id,
        policy_id=policy.policy_id,
        policy_version=policy.version,
        level=spec.level.value,
        windows=tuple(windows),
        metrics=spec.metrics,
        cells=tuple(cells),
        noise=noise,
        rho_charged=float(rho_charged),
        min_group_size=policy.min_group_size,
        released_at=released_at,
    )


def _mean_cell(
    group: str,
    window: Window,
    name: str,
    total: int,
    count: int,
    sigma_t: float,
    sigma_c: float,
    scale: _Scale,
) -> ReleasedCell:
    raw = total / (count * scale.per_window)
    # The interval's μ is the noisy mean clamped to what one person can contribute: a wild
    # noisy ratio must not inflate or shrink the error bar beyond what is possible.
    mean_total = min(max(total / count, 0.0), float(scale.bound))
    half = Z95 * ratio_sd(mean_total, count, sigma_t, sigma_c) / scale.per_window
    return ReleasedCell(
        group, window.key, name, scale.clamp(raw), scale.clamp(raw - half), scale.clamp(raw + half)
    )


def _read(spec: ReleaseSpec, noisy: pa.Table) -> tuple[dict[_Key, int], dict[tuple[str, str], float]]:
    """Index the noisy rows the spec needs; check that σ is one number per cell."""
    missing = set(NOISY_SCHEMA.names) - set(noisy.column_names)
    if missing:
        raise InternalError(f"the noisy table lacks the column(s) {', '.join(sorted(missing))}")
    wanted_windows = {window.key for window in spec.windows}
    wanted_metrics = {*spec.metrics, HEADCOUNT}
    totals: dict[_Key, int] = {}
    sigmas: dict[tuple[str, str], float] = {}
    for row in noisy.select(NOISY_SCHEMA.names).to_pylist():
        window, name = row["window"], row["metric"]
        if window not in wanted_windows or name not in wanted_metrics:
            continue
        key = (row["group"], window, name)
        if key in totals:
            raise InternalError(f"two noisy totals for one group in window '{window}', metric '{name}'")
        totals[key] = int(row["noisy_total"])
        sigma = float(row["sigma"])
        if not math.isfinite(sigma) or sigma < 0 or sigmas.setdefault((window, name), sigma) != sigma:
            raise InternalError(f"the noise scale of window '{window}', metric '{name}' is not one number")
    for window in wanted_windows:
        for name in wanted_metrics:
            if (window, name) not in sigmas:
                raise InternalError(f"no noisy totals were given for window '{window}', metric '{name}'")
    return totals, sigmas


def _bound(policy: Policy, name: str, window: Window) -> int:
    if name == HEADCOUNT:
        return 1
    try:
        return policy.metric_bound(name).bound_for(window)
    except KeyError:
        raise InternalError(f"released metric '{name}' has no bound in the approved policy") from None


def _scale(policy: Policy, name: str, window: Window) -> _Scale:
    divisor = metric(name).display_divisor
    bound = _bound(policy, name, window)
    return _Scale(bound, window.n_weeks * divisor, bound / window.n_weeks / divisor)

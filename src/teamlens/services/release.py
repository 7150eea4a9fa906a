"""Run releases from the approved catalogue: plan, check the budget, aggregate, add noise, record."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import HEADCOUNT, Policy, ReleasedTable, Rho
from teamlens.privacy import ReleasePlan, ReleaseSpec, add_noise, assemble, check_budget, plan_release
from teamlens.services.exclusions import aggregate_after_objections
from teamlens.services.workspace import Workspace


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _plan_aggregates(plan: ReleasePlan, aggregates: pa.Table) -> pa.Table:
    """Keep only the aggregate rows of cells the plan computes (the rest are cached already)."""
    wanted = {(cell.window.key, cell.metric) for cell in plan.cells}
    keys = [f"{w}\x1f{m}" for w, m in wanted]
    joined = pc.binary_join_element_wise(aggregates["window"], aggregates["metric"], "\x1f")
    return aggregates.filter(pc.is_in(joined, value_set=pa.array(keys, pa.string())))


def release(
    ws: Workspace,
    report_id: str,
    windows: Sequence[str],
    *,
    metrics: Sequence[str] | None = None,
    actor: str,
) -> ReleasedTable:
    """Release ``report_id`` for ``windows``: noisy team-level means, charged to the period's ledger.

    Cells released before come from the cache at no cost and with the same numbers; a release that
    would overspend the budget is refused whole, before any data is read.
    """
    active = ws.governance.require_active_policy("release statistics")
    policy = active.policy
    spec = ReleaseSpec.build(policy, report_id, windows, metrics)
    done = ws.governance.released_keys(policy.policy_id, policy.period_start, report_id)
    plan = plan_release(policy, spec, done)
    release_id = "cached"
    charged = Rho.zero()
    if plan.cells:
        check_budget(
            policy.rho,
            ws.governance.spent(policy.policy_id, policy.period_start, policy.period_end),
            plan.cost,
        )
        computed = sorted({cell.window for cell in plan.cells})
        aggregates = aggregate_after_objections(
            ws, level=spec.level.value, windows=computed, bounds=plan.bounds
        )
        # Groups already released for this report stay in the list even if the directory has
        # since lost them, so every cached headcount gets its metrics (groups only ever grow).
        cached = ws.governance.released_cells(
            policy.policy_id, policy.period_start, report_id, [w.key for w in spec.windows]
        )
        groups = sorted(set(ws.store.groups(spec.level.value)) | set(cached["group"].to_pylist()))
        noisy = add_noise(plan, _plan_aggregates(plan, aggregates), groups)
        release_id = f"r-{_now():%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
        ws.governance.record_release(
            release_id=release_id,
            active=active,
            report_id=report_id,
            spec_key=spec.key,
            windows=[w.key for w in spec.windows],
            metrics=list(spec.metrics),
            rho=plan.cost,
            cells=noisy,
            actor=actor,
            total_budget=policy.rho,
        )
        charged = plan.cost
    cells = ws.governance.released_cells(
        policy.policy_id, policy.period_start, report_id, [w.key for w in spec.windows]
    )
    return assemble(policy, spec, cells, release_id=release_id, released_at=_now(), rho_charged=charged)


def release_standard_reports(
    ws: Workspace, *, actor: str, through: dt.date | None = None
) -> list[ReleasedTable]:
    """Release every catalogue report for every window of the period that has ended by ``through``."""
    policy = ws.governance.require_active_policy("release statistics").policy
    cutoff = through or dt.date.today()
    tables = []
    for report in policy.reports:
        windows = [w.key for w in policy.windows(report.cadence) if w.end <= cutoff]
        if windows:
            tables.append(release(ws, report.report_id, windows, actor=actor))
    return tables


def released_tables(ws: Workspace) -> tuple[Policy, list[ReleasedTable]]:
    """Everything released so far under the active policy, rebuilt from the cache at no cost."""
    policy = ws.governance.require_active_policy("show released statistics").policy
    tables = []
    for report in policy.reports:
        keys = ws.governance.released_keys(policy.policy_id, policy.period_start, report.report_id)
        windows = sorted({window for window, metric in keys if metric != HEADCOUNT})
        metrics = sorted({metric for _, metric in keys if metric != HEADCOUNT})
        if not windows:
            continue
        spec = ReleaseSpec.build(policy, report.report_id, windows, metrics)
        cells = ws.governance.released_cells(policy.policy_id, policy.period_start, report.report_id, windows)
        tables.append(
            assemble(policy, spec, cells, release_id="cached", released_at=_now(), rho_charged=Rho.zero())
        )
    return policy, tables


def tables_as_json(policy: Policy, tables: list[ReleasedTable]) -> dict[str, object]:
    """Released tables as plain JSON-ready data: cells with intervals, never a headcount."""
    return {
        "policy": {
            "id": policy.policy_id,
            "version": policy.version,
            "min_group_size": policy.min_group_size,
        },
        "reports": [
            {
                "report_id": table.report_id,
                "level": table.level,
                "windows": list(table.windows),
                "metrics": list(table.metrics),
                "mechanism": table.mechanism,
                "cells": [
                    {
                        "group": cell.group,
                        "window": cell.window,
                        "metric": cell.metric,
                        "value": cell.value,
                        "lower": cell.lower,
                        "upper": cell.upper,
                        "suppressed": cell.suppressed,
                    }
                    for cell in table.cells
                ],
            }
            for table in tables
        ],
    }

"""Decide whether a new policy version only narrows the one in force (R2, R3).

Either party alone may tighten: raise the minimum group size, lower the budget, shorten the
retention, drop metrics, reports, levels, sources or recipients, add exclusions, bring the review
date forward. Anything else widens, and widening needs both parties again. ``widenings(old, new)``
lists every way ``new`` is wider than ``old``, in words both parties can read; an empty list means
one party's approval is enough. Free text that changes nothing the software does (the title and
the notes) may change either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from teamlens.domain import Policy, ReportDef


def widenings(old: Policy, new: Policy) -> list[str]:
    """Every way ``new`` would allow more processing than ``old``; empty when it only narrows."""
    found: list[str] = []
    if new.policy_id != old.policy_id:
        found.append(f"it is another policy ('{new.policy_id}', not '{old.policy_id}')")
    # The ledger is kept per policy and period start: a new start would open a fresh budget.
    if new.period_start != old.period_start:
        found.append(f"period_start moves from {old.period_start} to {new.period_start}")
    if new.period_end > old.period_end:
        found.append(f"period_end moves later, from {old.period_end} to {new.period_end}")
    if new.review_date > old.review_date:
        found.append(f"review_date moves later, from {old.review_date} to {new.review_date}")
    if new.min_group_size < old.min_group_size:
        found.append(f"min_group_size falls from {old.min_group_size} to {new.min_group_size}")
    if new.rho.value > old.rho.value:
        found.append(f"the budget rho rises from {old.rho.value} to {new.rho.value}")
    if new.delta > old.delta:
        found.append(f"delta rises from {old.delta:g} to {new.delta:g}")
    if new.retention_days > old.retention_days:
        found.append(f"retention_days rises from {old.retention_days} to {new.retention_days}")
    for label, before, after in (
        ("purpose", old.purpose.value, new.purpose.value),
        ("lawful_basis", old.lawful_basis.value, new.lawful_basis.value),
        ("consent_justification", old.consent_justification, new.consent_justification),
        ("controller", old.controller, new.controller),
        ("working_hours", repr(old.working_hours), repr(new.working_hours)),
        # Who must approve follows these: one party must not change them on its own word (R41).
        ("jurisdiction", old.jurisdiction.value, new.jurisdiction.value),
        ("representative_body", old.representative_body.value, new.representative_body.value),
    ):
        if before != after:
            found.append(f"{label} changes")
    found += _added("sources", old.sources, new.sources)
    levels = ([level.value for level in old.grouping_levels], [level.value for level in new.grouping_levels])
    found += _added("grouping_levels", *levels)
    found += _added("recipients", old.recipients, new.recipients)
    found += _added("metrics", [m.name for m in old.metrics], [m.name for m in new.metrics])
    found += _removed("exclusions.addresses", old.exclusions.addresses, new.exclusions.addresses)
    found += _removed("exclusions.domains", old.exclusions.domains, new.exclusions.domains)
    for bound in new.metrics:
        if bound.name in old.metric_names and bound.per_week > old.metric_bound(bound.name).per_week:
            found.append(f"the bound of metric '{bound.name}' rises")
    for report in new.reports:
        found += _report_widenings(old, report)
    return found


def _added(label: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    extra = sorted(set(new) - set(old))
    return [f"{label} adds {', '.join(extra)}"] if extra else []


def _removed(label: str, old: tuple[str, ...], new: tuple[str, ...]) -> list[str]:
    dropped = sorted(set(old) - set(new))
    return [f"{label} no longer lists {', '.join(dropped)}"] if dropped else []


def _report_widenings(old: Policy, report: ReportDef) -> list[str]:
    try:
        before = old.report(report.report_id)
    except KeyError:
        return [f"report '{report.report_id}' is new"]
    found = []
    if report.level != before.level:
        found.append(f"report '{report.report_id}' changes level from {before.level} to {report.level}")
    # A finer cadence releases more, smaller windows; a coarser one fewer. Any change counts.
    if report.cadence != before.cadence:
        found.append(f"report '{report.report_id}' changes cadence")
    extra = sorted(set(report.metrics) - set(before.metrics))
    if extra:
        found.append(f"report '{report.report_id}' adds metrics {', '.join(extra)}")
    if report.budget_share > before.budget_share:
        found.append(f"report '{report.report_id}' gets a larger budget_share")
    return found

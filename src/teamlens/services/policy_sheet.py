"""Every field of a policy in words people read: the part of each document that cannot drift.

``policy_sheet(policy)`` walks the ``Policy`` dataclass field by field; a field it does not know
how to show is an ``InternalError``, so adding a field to the policy without showing it in the
DPIA and the worker notice fails the moment either is generated (and a test walks the fields).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from teamlens.domain import METRICS, Policy, ReportDef, ReportKind
from teamlens.errors import InternalError
from teamlens.privacy import Strategy, rho_to_epsilon

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

PURPOSES = {
    "team_workload_and_meeting_load": "team workload and meeting-load trends",
    "after_hours_load_for_right_to_disconnect": "after-hours load, to monitor the right to disconnect",
    "collaboration_across_teams": "collaboration across teams",
    "tool_adoption": "adoption of collaboration tools",
}
LAWFUL_BASES = {
    "legitimate_interests": "legitimate interests (UK/EU GDPR Art 6(1)(f))",
    "collective_agreement": "a collective agreement (GDPR Art 88; in Germany §26 BDSG)",
    "legal_obligation": "a legal obligation (GDPR Art 6(1)(c))",
    "consent": "consent (GDPR Art 6(1)(a)) — rarely valid at work",
}
CLAUSE = (
    "Released figures may not be used for any decision about an individual, including any "
    "disciplinary, performance or pay process."
)


@dataclass(frozen=True)
class PolicyRow:
    """One policy field: its name in the TOML, a label, and its value in words."""

    field: str
    label: str
    value: str


def _metrics(policy: Policy) -> str:
    parts = []
    for bound in policy.metrics:
        definition = METRICS[bound.name]
        shown = bound.per_week / definition.display_divisor
        parts.append(
            f"{definition.label} ({bound.name}: {definition.formula}; at most {shown:g} "
            f"{definition.display_unit} per person per week counted)"
        )
    return "; ".join(parts)


def _reports(policy: Policy) -> str:
    return "; ".join(
        f"{r.title} ({r.report_id}: {_what(r)}, each {r.cadence.value}, "
        f"{float(r.budget_share):.0%} of the budget)"
        for r in policy.reports
    )


def _what(report: ReportDef) -> str:
    if report.kind is ReportKind.NETWORK:
        bound = f"each person's {report.metrics[0]} bounded in L1 by its per-week bound"
        return f"the collaboration network of {report.metrics[0]} between {report.level.value}s, {bound}"
    return f"{', '.join(report.metrics)} per {report.level.value}"


def _working_hours(policy: Policy) -> str:
    hours = policy.working_hours
    days = ", ".join(_DAYS[day] for day in hours.days)
    return f"{hours.start:%H:%M}–{hours.end:%H:%M} ({days}), time zone {hours.timezone}"


def _design(policy: Policy) -> str:
    design = policy.design
    span = Strategy.for_policy(policy).span_cadence
    chosen = f"{span} (chosen automatically)" if design.headcount_span.value == "auto" else span
    return (
        f"each person's weekly values are clipped together over each {design.clipping_block.value} "
        f"(a week is released once its {design.clipping_block.value} has ended); group sizes are "
        f"measured once per {chosen}, with {float(design.headcount_share):.0%} of the budget; every "
        "published number is derived from these weekly measurements, consistent across levels"
    )


def _exclusions(policy: Policy) -> str:
    listed = [*policy.exclusions.addresses, *(f"anything @{d}" for d in policy.exclusions.domains)]
    return "messages to or from " + ", ".join(listed) + " are never counted" if listed else "none"


_FIELDS: dict[str, tuple[str, Callable[[Policy], str]]] = {
    "policy_id": ("Policy id", lambda p: p.policy_id),
    "version": ("Version", lambda p: str(p.version)),
    "title": ("Title", lambda p: p.title),
    "purpose": ("Purpose", lambda p: f"{PURPOSES.get(p.purpose.value, p.purpose.value)} ({p.purpose.value})"),
    "lawful_basis": (
        "Lawful basis",
        lambda p: f"{LAWFUL_BASES.get(p.lawful_basis.value, p.lawful_basis.value)} ({p.lawful_basis.value})",
    ),
    "controller": ("Controller and contact", lambda p: p.controller),
    "period_start": ("Period starts", lambda p: p.period_start.isoformat()),
    "period_end": ("Period ends (exclusive)", lambda p: p.period_end.isoformat()),
    "review_date": ("Review date (processing stops if not renewed)", lambda p: p.review_date.isoformat()),
    "retention_days": (
        "Retention of per-person counts",
        lambda p: (
            f"{p.retention_days} days, then deleted automatically (sooner once every window "
            "covering them is released)"
        ),
    ),
    "released_retention_days": (
        "Retention of released statistics and the budget ledger",
        lambda p: f"the policy period and {max(p.released_retention_days, p.retention_days)} days after it",
    ),
    "released_disposal": (
        "Released statistics and ledger after their retention",
        lambda p: "archived, then deleted" if p.released_disposal == "archive" else "deleted",
    ),
    "sources": ("Sources read", lambda p: ", ".join(p.sources)),
    "metrics": ("Metrics counted", _metrics),
    "grouping_levels": ("Grouping levels", lambda p: ", ".join(level.value for level in p.grouping_levels)),
    "min_group_size": (
        "Minimum group size",
        lambda p: f"{p.min_group_size} people (smaller groups are shown as “fewer than {p.min_group_size}”)",
    ),
    "rho": (
        "Privacy budget per person for the period",
        lambda p: f"ρ = {p.rho.value} (zero-concentrated DP), about ε = {rho_to_epsilon(p.rho, p.delta):.3g}",
    ),
    "delta": ("δ used to state the budget as (ε, δ)", lambda p: f"{p.delta:g}"),
    "reports": ("Report catalogue (nothing else can be released)", _reports),
    "exclusions": ("Exclusions", _exclusions),
    "working_hours": ("Working hours (for after-hours metrics)", _working_hours),
    "design": ("How the budget is spent", _design),
    "recipients": ("Who receives the released figures", lambda p: ", ".join(p.recipients)),
    "not_for_individual_decisions": (
        "Not for decisions about individuals",
        lambda p: CLAUSE if p.not_for_individual_decisions else "MISSING",
    ),
    "consent_justification": (
        "Why consent is valid here (only with consent as the basis)",
        lambda p: p.consent_justification or "not applicable",
    ),
    "notes": ("Notes", lambda p: p.notes or "none"),
    "jurisdiction": (
        "Jurisdiction (approvals, documents and legal references)",
        lambda p: f"{p.jurisdiction.value} ({p.profile.name}: {p.profile.approver_rule.citation})",
    ),
    "representative_body": (
        "The representatives who approve",
        lambda p: (
            f"{p.representative_body.value.replace('_', ' ')} ({p.representative_body.value}); in "
            f"{p.profile.name} one of: {p.profile.body_names}"
        ),
    ),
}


def policy_sheet(policy: Policy) -> tuple[PolicyRow, ...]:
    """Every field of ``policy``, in the dataclass's order, as a labelled row."""
    rows = []
    for field in dataclasses.fields(Policy):
        if field.name not in _FIELDS:
            raise InternalError(f"the policy field '{field.name}' has no place in the generated documents")
        label, show = _FIELDS[field.name]
        rows.append(PolicyRow(field.name, label, show(policy)))
    return tuple(rows)

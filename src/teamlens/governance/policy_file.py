"""Turn a policy TOML document into a validated ``domain.Policy``, refusing anything unclear.

The layout (``policy_template()`` prints a complete, commented example)::

    [policy]          id, version, title, purpose, lawful_basis, consent_justification, controller,
                      period_start, period_end, review_date, retention_days, sources,
                      grouping_levels, min_group_size, recipients, not_for_individual_decisions, notes,
                      jurisdiction, representative_body
    [privacy]         unit, rho, delta, clipping_block, headcount_span, headcount_share, bounds_share
    [[metrics]]       name, per_week            (one table per metric)
    [[reports]]       id, title, kind, level, cadence, metrics, budget_share   (one per report)
    [exclusions]      addresses, domains
    [working_hours]   start, end, days, timezone

Every error is a ``PolicyFieldError`` naming the dotted field; arrays of tables are counted from 1,
so ``reports[2].level`` is the ``level`` of the second ``[[reports]]`` table. Unknown fields are
errors, never ignored: a representative must be able to trust that what they read is all there is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass, replace
from fractions import Fraction

from teamlens.domain import (
    METRICS,
    MIN_GROUP_SIZE_FLOOR,
    Cadence,
    GroupLevel,
    LawfulBasis,
    MetricBound,
    Policy,
    Purpose,
    ReportDef,
    Rho,
    Unit,
)
from teamlens.domain.metrics import SHARE_SCALE
from teamlens.errors import PolicyError
from teamlens.governance._policy_sections import (
    exclusions,
    jurisdiction,
    release_design,
    report_kind,
    sensitive_metrics,
    warn_uncovered_weeks,
    working_hours,
)
from teamlens.governance._toml_reader import TomlTable

#: The roles that may receive released statistics; the representative always does (R24).
RECIPIENT_ROLES = ("analyst", "representative", "worker")
#: The only privacy unit teamlens implements: one person over the whole policy period.
PRIVACY_UNIT = "person-period"
#: A week has 168 hours; a larger per-week bound for a time metric is a typing error.
_MAX_HOURS_PER_WEEK = 168

_TOP = ("policy", "privacy", "metrics", "reports", "exclusions", "working_hours")
_POLICY = (
    "id",
    "version",
    "title",
    "purpose",
    "lawful_basis",
    "consent_justification",
    "controller",
    "period_start",
    "period_end",
    "review_date",
    "retention_days",
    "sources",
    "grouping_levels",
    "min_group_size",
    "recipients",
    "not_for_individual_decisions",
    "notes",
    "jurisdiction",
    "representative_body",
    "released_retention_days",
    "released_disposal",
)
_PRIVACY = ("unit", "rho", "delta", "clipping_block", "headcount_span", "headcount_share", "bounds_share")
_METRIC = ("name", "per_week")
_REPORT = ("id", "title", "kind", "level", "cadence", "metrics", "budget_share")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_INDIVIDUAL = re.compile(r"individual|performance|behaviou?r|productivity")
_SYNTAX_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class ParsedPolicy:
    """A parsed policy with the warnings a person must read before approving, and its text's hash.

    ``sha256`` is ``policy_sha256(text)``: what both parties approve is these exact bytes.
    """

    policy: Policy
    warnings: tuple[str, ...]
    sha256: str
    text: str


def policy_sha256(text: str) -> str:
    """Hash the exact UTF-8 bytes of a policy document; any change, even whitespace, changes it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_policy(text: str, source: str) -> ParsedPolicy:
    """Read a policy TOML document; raise ``PolicyFieldError`` naming the first wrong field.

    ``source`` names the document in messages (a file path, or "database" for a stored version).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _SYNTAX_LINE.search(str(exc))
        location = f", line {where.group(1)}, column {where.group(2)}" if where else ""
        raise PolicyError(
            f"{source}{location}: not valid TOML ({_SYNTAX_LINE.sub('', str(exc)).strip()})",
            "Fix the syntax there; `teamlens policy template` prints a valid example.",
        ) from None
    root = TomlTable(data, "", source, _TOP)
    head = root.table("policy", _POLICY)
    warnings: list[str] = []
    policy_id = _identifier(head, "id")
    version = head.integer("version", minimum=1)
    title = head.text("title")
    purpose = _purpose(head)
    lawful_basis, consent_justification = _lawful_basis(head, warnings)
    controller = head.text("controller")
    period_start, period_end = _period(head)
    review_date = head.date("review_date")
    if review_date <= period_start:
        raise head.error("review_date", f"must be after period_start {period_start} (got {review_date})")
    if not head.boolean("not_for_individual_decisions"):
        raise head.error(
            "not_for_individual_decisions",
            "must be true: released statistics may never be used for decisions about a person (R23, R26)",
        )
    privacy = root.table("privacy", _PRIVACY)
    rho, delta = _privacy(privacy)
    disposal = head.text("released_disposal", "archive")
    if disposal not in ("archive", "delete"):
        raise head.error("released_disposal", f'expected "archive" or "delete" (got {disposal!r})')
    profile, representative_body = jurisdiction(head, warnings)
    policy = Policy(
        policy_id=policy_id,
        version=version,
        title=title,
        purpose=purpose,
        lawful_basis=lawful_basis,
        controller=controller,
        period_start=period_start,
        period_end=period_end,
        review_date=review_date,
        retention_days=head.integer("retention_days", profile.default_retention_days, minimum=1),
        sources=_sources(head),
        metrics=_metrics(root.tables("metrics", _METRIC)),
        grouping_levels=_grouping_levels(head),
        min_group_size=_min_group_size(head, warnings, profile.default_min_group_size),
        rho=rho,
        delta=delta,
        reports=(),
        exclusions=exclusions(root.table("exclusions", ("addresses", "domains"), required=False)),
        working_hours=working_hours(
            root.table("working_hours", ("start", "end", "days", "timezone"), required=False)
        ),
        design=release_design(privacy),
        recipients=_recipients(head),
        not_for_individual_decisions=True,
        consent_justification=consent_justification,
        notes=head.text("notes", "", allow_empty=True),
        jurisdiction=profile.jurisdiction,
        representative_body=representative_body,
        released_retention_days=head.integer("released_retention_days", 365, minimum=0),
        released_disposal=disposal,
    )
    # Reports are checked against the finished policy: its levels, metrics and period.
    policy = replace(policy, reports=_reports(root.tables("reports", _REPORT), policy, warnings))
    return ParsedPolicy(policy=policy, warnings=tuple(warnings), sha256=policy_sha256(text), text=text)


def _identifier(table: TomlTable, key: str) -> str:
    value = table.text(key)
    if not _ID.fullmatch(value):
        raise table.error(
            key, f"expected lower-case letters, digits, '.', '_' or '-', at most 64 (got {value!r})"
        )
    return value


def _purpose(head: TomlTable) -> Purpose:
    value = head.text("purpose")
    try:
        return Purpose(value)
    except ValueError:
        pass
    allowed = ", ".join(purpose.value for purpose in Purpose)
    if _INDIVIDUAL.search(value.lower()):
        raise head.error(
            "purpose",
            f"'{value}' is not a permitted purpose: teamlens never evaluates individual workers, "
            "and no setting can add such a purpose (R7)",
            f"Choose one of the team-level purposes: {allowed}.",
        )
    raise head.error("purpose", f"unknown purpose '{value}'", f"Choose one of: {allowed}.")


def _lawful_basis(head: TomlTable, warnings: list[str]) -> tuple[LawfulBasis, str]:
    value = head.text("lawful_basis")
    try:
        basis = LawfulBasis(value)
    except ValueError:
        allowed = ", ".join(basis.value for basis in LawfulBasis)
        raise head.error(
            "lawful_basis", f"unknown lawful basis '{value}'", f"Choose one of: {allowed}."
        ) from None
    justification = head.text("consent_justification", "", allow_empty=True).strip()
    if basis is LawfulBasis.CONSENT:
        if not justification:
            raise head.error(
                "consent_justification",
                "required when lawful_basis is 'consent': say why consent can be freely given here",
                "Consent is rarely valid between employer and worker (R28); consider "
                "'legitimate_interests' or 'collective_agreement' instead.",
            )
        warnings.append(
            "lawful_basis is 'consent': the power imbalance in employment makes consent rarely "
            "valid (R28). Check the justification with your DPO before approving."
        )
    return basis, justification


def _period(head: TomlTable) -> tuple[dt.date, dt.date]:
    start, end = head.date("period_start"), head.date("period_end")
    for key, day in (("period_start", start), ("period_end", end)):
        if day.weekday() != 0:
            raise head.error(
                key,
                f"must be a Monday (got {day}, a {day:%A}): windows are whole ISO weeks",
                f"Use {day - dt.timedelta(days=day.weekday())} or "
                f"{day + dt.timedelta(days=7 - day.weekday())}.",
            )
    if end <= start:
        raise head.error("period_end", f"must be after period_start {start} (got {end})")
    return start, end


def _min_group_size(head: TomlTable, warnings: list[str], default: int) -> int:
    value = head.integer("min_group_size", default)
    if value < MIN_GROUP_SIZE_FLOOR:
        raise head.error(
            "min_group_size",
            f"must be at least {MIN_GROUP_SIZE_FLOOR} (got {value}); the floor cannot be lowered (R12)",
        )
    if value < default:
        warnings.append(
            f"min_group_size is {value}, below the default of {default}: "
            "smaller groups are shown, with wider error bars."
        )
    return value


def _grouping_levels(head: TomlTable) -> tuple[GroupLevel, ...]:
    names = head.strings("grouping_levels", non_empty=True)
    allowed = ", ".join(level.value for level in GroupLevel)
    for name in names:
        if name not in {level.value for level in GroupLevel}:
            raise head.error("grouping_levels", f"unknown level '{name}'", f"Levels are: {allowed}.")
    return tuple(GroupLevel(name) for name in names)


def _sources(head: TomlTable) -> tuple[str, ...]:
    names = head.strings("sources", non_empty=True)
    for name in names:
        if not _ID.fullmatch(name):
            raise head.error("sources", f"'{name}' is not a source name (lower-case letters, digits, '_')")
    return names


def _recipients(head: TomlTable) -> tuple[str, ...]:
    roles = head.strings("recipients", non_empty=True)
    for role in roles:
        if role not in RECIPIENT_ROLES:
            raise head.error(
                "recipients", f"unknown role '{role}'", f"Roles are: {', '.join(RECIPIENT_ROLES)}."
            )
    if "representative" not in roles:
        raise head.error(
            "recipients",
            "must include 'representative': representatives see everything an analyst sees (R24)",
        )
    return roles


def _privacy(table: TomlTable) -> tuple[Rho, float]:
    unit = table.text("unit", PRIVACY_UNIT)
    if unit != PRIVACY_UNIT:
        raise table.error(
            "unit", f"expected '{PRIVACY_UNIT}' (got '{unit}'): one person over the whole policy period"
        )
    rho = table.exact("rho")
    if rho <= 0:
        raise table.error("rho", f"must be greater than 0 (got {rho})")
    delta = table.number("delta", 1e-6)
    if not 0 < delta < 1:
        raise table.error("delta", f"must be between 0 and 1, exclusive (got {delta})")
    return Rho(rho), delta


def _metrics(tables: tuple[TomlTable, ...]) -> tuple[MetricBound, ...]:
    bounds: list[MetricBound] = []
    for table in tables:
        name = table.text("name")
        if name not in METRICS:
            raise table.error(
                "name", f"unknown metric '{name}'", f"Metrics are: {', '.join(sorted(METRICS))}."
            )
        if name in {bound.name for bound in bounds}:
            raise table.error("name", f"metric '{name}' is listed twice")
        bounds.append(MetricBound(name, _per_week(table, METRICS[name].unit)))
    return tuple(bounds)


def _per_week(table: TomlTable, unit: Unit) -> int:
    if unit is Unit.COUNT:
        return table.integer("per_week", minimum=1)
    if unit is Unit.SHARE:
        share = table.exact("per_week")
        if not 0 < share <= 1:
            raise table.error("per_week", f"expected a share in (0, 1] (got {float(share):g})")
        # Stored in thousandths, like the per-person values it bounds.
        return max(1, round(share * SHARE_SCALE))
    hours = table.exact("per_week")
    if not 0 < hours <= _MAX_HOURS_PER_WEEK:
        raise table.error(
            "per_week", f"expected hours per week in (0, {_MAX_HOURS_PER_WEEK}] (got {float(hours):g})"
        )
    # Stored in whole minutes so that noise is added to integers; round() of a Fraction is exact.
    return max(1, round(hours * 60))


def _reports(tables: tuple[TomlTable, ...], policy: Policy, warnings: list[str]) -> tuple[ReportDef, ...]:
    reports: list[ReportDef] = []
    for table in tables:
        report_id = _identifier(table, "id")
        if report_id in {report.report_id for report in reports}:
            raise table.error("id", f"report id '{report_id}' is used twice")
        level_name = table.text("level")
        if level_name not in {level.value for level in policy.grouping_levels}:
            declared = ", ".join(level.value for level in policy.grouping_levels)
            raise table.error(
                "level", f"'{level_name}' is not one of the policy's grouping_levels ({declared})"
            )
        cadence_name = table.text("cadence")
        if cadence_name not in {cadence.value for cadence in Cadence}:
            raise table.error(
                "cadence", f"unknown cadence '{cadence_name}'", "Cadences are: week, month, quarter."
            )
        cadence = Cadence(cadence_name)
        if not policy.windows(cadence):
            raise table.error(
                "cadence",
                f"no whole {cadence.value} fits in the policy period "
                f"{policy.period_start} – {policy.period_end}",
            )
        metrics = table.strings("metrics", non_empty=True)
        for name in metrics:
            if name not in policy.metric_names:
                raise table.error("metrics", f"'{name}' is not one of the policy's [[metrics]]")
        sensitive_metrics(table, level_name, metrics, policy.min_group_size)
        kind = report_kind(table, level_name, metrics, policy)
        share = table.exact("budget_share")
        if not 0 < share <= 1:
            raise table.error("budget_share", f"must be greater than 0 and at most 1 (got {share})")
        reports.append(
            ReportDef(report_id, table.text("title"), GroupLevel(level_name), cadence, metrics, share, kind)
        )
        warn_uncovered_weeks(reports[-1], policy, warnings)
    total = sum((report.budget_share for report in reports), Fraction(0))
    bounds = policy.design.bounds_share
    if total + bounds > 1:
        with_bounds = f" plus bounds_share {bounds}" if bounds else ""
        raise tables[-1].error(
            "budget_share",
            f"the reports' budget shares add up to {total}{with_bounds} "
            f"({float(total + bounds):.4g}), more than 1",
            "Lower the shares so that together they spend at most the whole budget.",
        )
    return tuple(reports)

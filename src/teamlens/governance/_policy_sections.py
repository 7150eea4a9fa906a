"""Read the optional ``[exclusions]`` and ``[working_hours]`` tables, ``[privacy]``'s engine settings,
the jurisdiction fields of ``[policy]``, the comparison-floor rule for sensitive metrics (R19) and
a report's ``kind`` (a network report's rules)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from teamlens.domain import (
    COMPARISON_FLOOR,
    COMPARISON_LEVELS,
    DEFAULT_JURISDICTION,
    Cadence,
    Exclusions,
    HeadcountSpan,
    Jurisdiction,
    Policy,
    Profile,
    ReleaseDesign,
    ReportDef,
    ReportKind,
    RepresentativeBody,
    WorkingHours,
    is_sensitive,
    profile,
)
from teamlens.domain.metric_catalogue import NETWORK_METRICS
from teamlens.governance._toml_reader import TomlTable

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def exclusions(table: TomlTable) -> Exclusions:
    """Read the addresses and domains never counted; lower-cased, so matching ignores case."""
    addresses = tuple(address.strip().lower() for address in table.strings("addresses", ()))
    domains = tuple(domain.strip().lower().lstrip("@") for domain in table.strings("domains", ()))
    for address in addresses:
        if address.count("@") != 1 or address.startswith("@") or address.endswith("@"):
            raise table.error("addresses", f"'{address}' is not an e-mail address")
    for domain in domains:
        if "@" in domain or "." not in domain:
            raise table.error("domains", f"'{domain}' is not a domain such as union.example.org")
    return Exclusions(addresses=addresses, domains=domains)


def working_hours(table: TomlTable) -> WorkingHours:
    """Read the working pattern after-hours metrics use; 09:00–17:30 Mon–Fri by default."""
    default = WorkingHours()
    start = _clock_time(table, "start", default.start)
    end = _clock_time(table, "end", default.end)
    if end <= start:
        raise table.error("end", f"must be after start {start:%H:%M} (got {end:%H:%M})")
    days = table.strings("days", [_DAYS[day] for day in default.days], non_empty=True)
    for day in days:
        if day not in _DAYS:
            raise table.error("days", f"unknown day '{day}'", f"Days are: {', '.join(_DAYS)}.")
    timezone = table.text("timezone", default.timezone)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise table.error(
            "timezone", f"unknown time zone '{timezone}'", "Use an IANA name such as Europe/London."
        ) from None
    return WorkingHours(start, end, tuple(sorted(_DAYS.index(day) for day in days)), timezone)


def _clock_time(table: TomlTable, key: str, default: dt.time) -> dt.time:
    value = table.text(key, f"{default:%H:%M}")
    match = _TIME.fullmatch(value)
    if not match:
        raise table.error(key, f'expected a time such as "09:00" (got {value!r})')
    return dt.time(int(match.group(1)), int(match.group(2)))


def release_design(table: TomlTable) -> ReleaseDesign:
    """Read how the engine spends the budget: clipping block, headcount span and share."""
    default = ReleaseDesign()
    block = table.text("clipping_block", default.clipping_block.value)
    if block not in {cadence.value for cadence in Cadence}:
        raise table.error(
            "clipping_block", f"unknown block '{block}'", "Blocks are: week, month, quarter (month is usual)."
        )
    span = table.text("headcount_span", default.headcount_span.value)
    if span not in {choice.value for choice in HeadcountSpan}:
        known = ", ".join(choice.value for choice in HeadcountSpan)
        raise table.error("headcount_span", f"unknown span '{span}'", f"Spans are: {known}.")
    order = [Cadence.WEEK.value, Cadence.MONTH.value, Cadence.QUARTER.value, HeadcountSpan.PERIOD.value]
    if span != HeadcountSpan.AUTO.value and order.index(span) < order.index(block):
        raise table.error(
            "headcount_span",
            f"a headcount span ('{span}') cannot be shorter than the clipping block ('{block}')",
            "Use a span at least as long as the block, or 'auto'.",
        )
    share = table.exact("headcount_share") if "headcount_share" in table.data else default.headcount_share
    if not 0 < share < 1:
        raise table.error("headcount_share", f"must be greater than 0 and less than 1 (got {float(share):g})")
    bounds = table.exact("bounds_share") if "bounds_share" in table.data else default.bounds_share
    if not 0 <= bounds < 1:
        raise table.error("bounds_share", f"must be at least 0 and less than 1 (got {float(bounds):g})")
    return ReleaseDesign(Cadence(block), HeadcountSpan(span), share, bounds)


def jurisdiction(head: TomlTable, warnings: list[str]) -> tuple[Profile, RepresentativeBody]:
    """Read ``jurisdiction`` (``uk`` when absent) and ``representative_body`` (``not_stated``).

    A body the jurisdiction does not accept as approver is a warning here, and a refusal when
    the version would start (``governance.approvers``): the text may still go to consultation.
    """
    value = head.text("jurisdiction", DEFAULT_JURISDICTION.value)
    if value not in {choice.value for choice in Jurisdiction}:
        known = ", ".join(choice.value for choice in Jurisdiction)
        raise head.error(
            "jurisdiction",
            f"unknown jurisdiction '{value}'",
            f"Choose one of: {known} (uk when the field is left out).",
        )
    chosen = profile(Jurisdiction(value))
    body = head.text("representative_body", RepresentativeBody.NOT_STATED.value)
    if body not in {choice.value for choice in RepresentativeBody}:
        known = ", ".join(choice.value for choice in RepresentativeBody)
        raise head.error("representative_body", f"unknown body '{body}'", f"Bodies are: {known}.")
    if RepresentativeBody(body) not in chosen.representative_bodies:
        warnings.append(
            f"representative_body is '{body}', but in {chosen.name} the approving representative must be "
            f"one of: {chosen.body_names} ({chosen.approver_rule.citation}). This version cannot start "
            "until a version naming such a body is approved."
        )
    return chosen, RepresentativeBody(body)


def sensitive_metrics(table: TomlTable, level: str, metrics: tuple[str, ...], min_group_size: int) -> None:
    """Refuse a report releasing after-hours or similar metrics below the comparison floor (R19).

    Such metrics exist to evidence collective workload (right to disconnect): they are released
    only at organisation, division, department or location level, never per team, and only when
    no group under ``COMPARISON_FLOOR`` people is shown.
    """
    sensitive = [name for name in metrics if is_sensitive(name)]
    if not sensitive:
        return
    named = ", ".join(f"'{name}'" for name in sensitive)
    if level not in COMPARISON_LEVELS:
        levels = ", ".join(sorted(COMPARISON_LEVELS))
        raise table.error(
            "metrics",
            f"{named} tells about time outside work and may not be released per {level}: "
            "after-hours and similar metrics are never released below the comparison floor (R19)",
            f"Release it in a report at one of: {levels}; keep the {level} report to the other metrics.",
        )
    if min_group_size < COMPARISON_FLOOR:
        raise table.error(
            "metrics",
            f"{named} tells about time outside work and may not be released while min_group_size is "
            f"{min_group_size}: such metrics are never shown for groups under the comparison floor of "
            f"{COMPARISON_FLOOR} people (R19)",
            f"Raise min_group_size to at least {COMPARISON_FLOOR}, or leave {named} out of the catalogue.",
        )


def warn_uncovered_weeks(report: ReportDef, policy: Policy, warnings: list[str]) -> None:
    """Warn when a report's whole windows leave weeks of the period it can never release."""
    # Windows never straddle the period's edges, so a period not aligned to the cadence leaves
    # weeks this report can never release; both parties should see that before approving.
    windows = policy.windows(report.cadence)
    covered = sum(window.n_weeks for window in windows)
    period_weeks = (policy.period_end - policy.period_start).days // 7
    if covered < period_weeks:
        warnings.append(
            f"report '{report.report_id}' covers {covered} of the period's {period_weeks} weeks "
            f"({windows[0].key} to {windows[-1].key}): weeks outside a whole {report.cadence.value} "
            "inside the period are never released by it. Start and end the period on "
            f"{report.cadence.value} boundaries to use every week."
        )


_NETWORK_LEVELS = ("division", "department", "location")
_CADENCES = (Cadence.WEEK, Cadence.MONTH, Cadence.QUARTER)


def report_kind(table: TomlTable, level: str, metrics: tuple[str, ...], policy: Policy) -> ReportKind:
    """A report's ``kind``: "metrics" (the default) or "network", whose rules are checked here.

    A network report releases one network metric (its ``per_week`` in ``[[metrics]]`` is the
    bound B) between the groups of a level at or above the comparison floor (never teams, and
    the organisation has no pair), per window of whole clipping blocks; a metrics report releases
    no network metric (those are weights between people, never means per group).
    """
    name = table.text("kind", ReportKind.METRICS.value)
    if name not in {kind.value for kind in ReportKind}:
        raise table.error("kind", f"unknown report kind '{name}'", "Kinds are: metrics, network.")
    kind = ReportKind(name)
    network = [metric for metric in metrics if metric in NETWORK_METRICS]
    if kind is ReportKind.METRICS:
        if network:
            raise table.error(
                "metrics",
                f"'{network[0]}' is a weight of the collaboration network, released only by a network report",
                'Release it in a report of its own with kind = "network".',
            )
        return kind
    if len(metrics) != 1 or not network:
        raise table.error(
            "metrics",
            "a network report releases exactly one network metric "
            f"(one of: {', '.join(sorted(NETWORK_METRICS))})",
            "Give each network metric a report of its own.",
        )
    if level not in _NETWORK_LEVELS:
        raise table.error(
            "level",
            f"the collaboration network is released between groups of one of: {', '.join(_NETWORK_LEVELS)}; "
            f"not per {level} (below the comparison floor, or a single group)",
        )
    cadence = Cadence(table.text("cadence"))
    block = policy.design.clipping_block
    if _CADENCES.index(cadence) < _CADENCES.index(block):
        raise table.error(
            "cadence",
            f"a network report is released per whole clipping block ({block.value}), not per {cadence.value}",
            f"Release it per {block.value} or longer, or make the clipping block shorter.",
        )
    return kind

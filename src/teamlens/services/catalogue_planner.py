"""Propose a report catalogue from the HR directory: which levels, at which cadence, meet a target.

``teamlens policy template --from-directory hr.csv --target 0.25`` reads the directory export
(under a throwaway key: nothing is stored or kept), takes each grouping level's median group size
among groups of at least the minimum size, and for each level picks the shortest cadence (week,
month, quarter) whose forecast 95% half-width — computed exactly as the planner and releases
compute it, for a typical weekly value of half each metric's bound — is within the target for
every metric. Levels no cadence can serve are left out and named, with the forecast they would
get. The budget is shared evenly among the levels kept. The result is the template policy with
that catalogue and a comment block saying why.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import statistics
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import pyarrow as pa

from teamlens.domain import METRICS, Cadence, GroupLevel, Policy, ReportDef
from teamlens.domain.metric_catalogue import NETWORK_METRICS
from teamlens.governance import parse_policy, policy_template
from teamlens.privacy import Strategy, expected_half_width, typical_value
from teamlens.pseudonymise import Pseudonymiser
from teamlens.sources import ReadContext, ReadReport, detect_directory

_CADENCES = (Cadence.WEEK, Cadence.MONTH, Cadence.QUARTER)
_LEVELS = (GroupLevel.ORGANISATION, GroupLevel.DIVISION, GroupLevel.DEPARTMENT, GroupLevel.TEAM)


@dataclass(frozen=True)
class LevelChoice:
    """One grouping level: its median group size and the cadence chosen (None: no cadence works)."""

    level: str
    groups: int
    median_size: int
    cadence: str | None
    worst_half_width: float  # relative to the typical value, at the chosen (or longest) cadence


@dataclass(frozen=True)
class CataloguePlan:
    """The proposed catalogue and the policy text that carries it."""

    target: float
    levels: tuple[LevelChoice, ...]
    text: str


def group_sizes(directory: Path, day: dt.date | None = None) -> dict[str, Counter[str]]:
    """Each level's group sizes on ``day`` (today by default), read from an HR export and then forgotten."""
    reader = detect_directory(directory)
    context = ReadContext(pseudonymise=Pseudonymiser(secrets.token_bytes(32)), metrics=frozenset())
    table = pa.Table.from_batches(list(reader.read(directory, context, ReadReport())))
    when = day or dt.date.today()
    latest: dict[str, dict[str, object]] = {}
    for row in table.to_pylist():
        valid = row["valid_from"] <= when and (row["valid_to"] is None or when < row["valid_to"])
        if valid and (row["person"] not in latest or row["valid_from"] > latest[row["person"]]["valid_from"]):
            latest[row["person"]] = row
    sizes: dict[str, Counter[str]] = {}
    for level in _LEVELS:
        counted: Counter[str] = Counter()
        for row in latest.values():
            group = "Organisation" if level is GroupLevel.ORGANISATION else row.get(level.value)
            if group:
                counted[str(group)] += 1
        if counted:
            sizes[level.value] = counted
    return sizes


def plan_catalogue(
    sizes: dict[str, Counter[str]], *, target: float, rho: Fraction | None = None
) -> CataloguePlan:
    """The template policy with the catalogue meeting ``target`` (relative half-width) where it can."""
    base = parse_policy(policy_template(), "template").policy
    if rho is not None:
        base = replace(base, rho=replace(base.rho, value=rho))
    k = base.min_group_size
    candidates = [level for level in sizes if any(n >= k for n in sizes[level].values())]
    kept: list[str] = list(candidates)
    choices: dict[str, LevelChoice] = {}
    while True:
        choices = {level: _choose(base, kept, level, sizes[level], target) for level in candidates}
        served = [level for level in kept if choices[level].cadence is not None]
        if served == kept or not served:
            kept = served
            break
        kept = served  # drop levels no cadence serves, and give their budget to the rest
    policy = _with_catalogue(base, {level: choices[level].cadence for level in kept})
    return CataloguePlan(
        target, tuple(choices[level] for level in candidates), _text(base, policy, choices, target)
    )


def _median(sizes: Counter[str], k: int) -> int:
    shown = [n for n in sizes.values() if n >= k]
    return int(statistics.median(shown)) if shown else 0


def _with_catalogue(base: Policy, cadences: dict[str, str | None]) -> Policy:
    levels = [level for level, cadence in cadences.items() if cadence is not None]
    if not levels:
        return replace(base, reports=())
    share = (1 - base.design.bounds_share) / len(levels)
    metrics = tuple(sorted(base.metric_names - NETWORK_METRICS))  # hook: network metrics are not means
    reports = tuple(
        ReportDef(
            f"{level}-{cadence}ly",
            f"{_plural(level)}, {cadence} by {cadence}",
            GroupLevel(level),
            Cadence(cadence),
            metrics,
            share,
        )
        for level, cadence in cadences.items()
        if cadence is not None
    )
    return replace(base, reports=reports)


def _choose(base: Policy, kept: list[str], level: str, sizes: Counter[str], target: float) -> LevelChoice:
    size = _median(sizes, base.min_group_size)
    worst = float("inf")
    trial_levels = kept if level in kept else [*kept, level]
    for cadence in _CADENCES:
        policy = _with_catalogue(base, {name: cadence.value for name in trial_levels})
        strategy = Strategy.for_policy(policy)
        report = next(r for r in policy.reports if r.level.value == level)
        worst = max(
            expected_half_width(
                policy, report.report_id, size, _typical(policy, name), name, strategy=strategy
            )
            / _typical(policy, name)
            for name in report.metrics
        )
        if worst <= target:
            return LevelChoice(level, len(sizes), size, cadence.value, worst)
    return LevelChoice(level, len(sizes), size, None, worst)


def _typical(policy: Policy, name: str) -> float:
    return typical_value(policy, name) / METRICS[name].display_divisor


def _text(base: Policy, policy: Policy, choices: dict[str, LevelChoice], target: float) -> str:
    template = policy_template()
    start = template.index("# The closed report catalogue")
    end = template.index("# Messages to or from these are never counted")
    lines = [
        f"# The catalogue below was proposed from the HR directory for a 95% half-width within ±{target:.0%}",
        f"# of a typical value at each level's median group size (ρ = {float(base.rho.value):g}):",
    ]
    for choice in choices.values():
        if choice.cadence is None:
            lines.append(
                f"#   {choice.level}: {choice.groups} groups, median {choice.median_size} people — "
                f"no cadence meets the target (quarterly ±{choice.worst_half_width:.0%}); left out."
            )
        else:
            lines.append(
                f"#   {choice.level}: {choice.groups} groups, median {choice.median_size} people — "
                f"{choice.cadence}ly, ±{choice.worst_half_width:.0%} at worst."
            )
    reports = [
        f'[[reports]]\nid = "{r.report_id}"\ntitle = "{r.title}"\nlevel = "{r.level.value}"\n'
        f'cadence = "{r.cadence.value}"\nmetrics = [{", ".join(_quoted(m) for m in r.metrics)}]\n'
        f'budget_share = "{r.budget_share}"\n'
        for r in policy.reports
    ]
    text = template[:start] + "\n".join(lines) + "\n\n" + "\n".join(reports) + "\n" + template[end:]
    return re.sub(r"^rho = \"[^\"]+\"", f'rho = "{base.rho.value}"', text, count=1, flags=re.M)


def _quoted(text: str) -> str:
    return f'"{text}"'


def _plural(level: str) -> str:
    return "The organisation" if level == GroupLevel.ORGANISATION.value else f"{level.capitalize()}s"

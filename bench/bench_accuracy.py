"""Accuracy: the release engine against the even-split baseline, on real data, ≥ 40 releases each.

Both engines release the whole catalogue (every window of every report) from the same store, 40
times with fresh OpenDP noise. The new engine runs the product's own path — ``Strategy``, the
store's block aggregation, ``measure_block``, least-squares reconciliation and ``assemble`` —
without the ledger (each run would otherwise need a fresh budget). Errors are measured against
the exact *unclipped* mean per person per week; coverage against each engine's own estimand
(the value it would publish with infinite budget), and also against the unclipped mean.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bench._accuracy_data import Dataset, demo, email_eu_core, pq_data
from bench._baseline_even_split import baseline_truth, release_baseline
from bench._measure import quick
from teamlens.domain import (
    HEADCOUNT,
    MEASUREMENT_SCHEMA,
    METRICS,
    Cadence,
    GroupLevel,
    HeadcountSpan,
    MetricBound,
    Policy,
    Rho,
)
from teamlens.privacy import ReleaseSpec, Strategy, measure_block
from teamlens.privacy.bounds import noisy_histograms, plan_bounds, spread, suggest_bound
from teamlens.services.release import derive
from teamlens.store import MetricClip

SEEDS = 40
BANDS = ((10, 19), (20, 49), (50, 199), (200, 10**9))


@dataclass(frozen=True)
class Cell:
    """One released cell of one run, with what it is judged against."""

    cadence: str
    window: str
    metric: str
    group: str
    size: float  # true average headcount over the window
    value: float | None
    lower: float | None
    upper: float | None
    ceiling: float
    clamped: bool
    truth: float  # exact unclipped mean per person per week, display units
    estimand: float  # what the engine would publish with infinite budget
    uncertain: bool = False  # the report shows "too uncertain at this budget" instead of the number


# -- truth ---------------------------------------------------------------------------------


def _placement(ds: Dataset) -> pd.DataFrame:
    """Each person-week of the period with the groups the directory gives that Monday."""
    weeks = [week for block in Strategy.for_policy(ds.policy).blocks for week in block.weeks]
    if "valid_from" not in ds.directory.columns:
        return ds.directory.merge(pd.DataFrame({"week": weeks}), how="cross")
    frame = ds.directory.merge(pd.DataFrame({"week": weeks}), how="cross")
    valid = (frame["valid_from"] <= frame["week"]) & (
        frame["valid_to"].isna() | (frame["week"] < frame["valid_to"])
    )
    frame = frame[valid].sort_values("valid_from")
    return frame.groupby(["person", "week"]).tail(1).drop(columns=["valid_from", "valid_to"])


def _truth(
    ds: Dataset, placement: pd.DataFrame
) -> tuple[dict[tuple[str, str, str, str], float], dict[tuple[str, str, str], float]]:
    """Exact unclipped means per (report, window, metric, group) and true average sizes."""
    means: dict[tuple[str, str, str, str], float] = {}
    sizes: dict[tuple[str, str, str], float] = {}
    policy = ds.policy
    for report in policy.reports:
        level = report.level.value
        for window in policy.windows(report.cadence):
            members = placement[placement["week"].isin(window.weeks)]
            person_weeks = members.groupby(level).size()
            for group, count in person_weeks.items():
                sizes[(report.report_id, window.key, str(group))] = count / window.n_weeks
            inside = ds.facts[ds.facts["week"].isin(window.weeks)].merge(members, on=["person", "week"])
            for name in report.metrics:
                divisor = METRICS[name].display_divisor
                totals = inside[inside["metric"] == name].groupby(level)["value"].sum()
                for group, count in person_weeks.items():
                    means[(report.report_id, window.key, name, str(group))] = (
                        float(totals.get(group, 0)) / count / divisor
                    )
    return means, sizes


# -- the engine ------------------------------------------------------------------------------


def _aggregates(
    ds: Dataset, strategy: Strategy
) -> tuple[dict[str, pa.Table], dict[str, pa.Table], dict[object, list[str]]]:
    levels = [level.value for level in strategy.levels]
    groups = {level: ds.store.groups(level.value) for level in strategy.levels}
    wanted = {f"{plan.level.value}\x1e{plan.metric}" for plan in strategy.metric_plans}
    aggregates, structures = {}, {}
    for block in strategy.blocks:
        clips = {
            plan.metric: MetricClip(plan.per_week * block.n_weeks**0.5, plan.scale)
            for plan in strategy.metric_plans
        }
        opens = strategy.span_of(block).first == block
        table = ds.store.aggregate_block(levels=levels, weeks=block.weeks, clips=clips, headcount=opens)
        keys = pc.binary_join_element_wise(table["level"], table["metric"], "\x1e")
        keep = pc.or_(
            pc.is_in(keys, value_set=pa.array(sorted(wanted))), pc.equal(table["metric"], HEADCOUNT)
        )
        aggregates[block.key] = table.filter(keep)
        structures[block.key] = ds.store.structure(levels=levels, first_day=block.start, end_day=block.end)
    return aggregates, structures, groups  # type: ignore[return-value]


def _exact_rows(
    strategy: Strategy, aggregates: dict[str, pa.Table], groups: dict[object, list[str]]
) -> pa.Table:
    """The true measurements (nominal σ 10⁻⁶): the engine's estimand (bench only, never in the product)."""
    parts = []
    for block in strategy.blocks:
        table = aggregates[block.key]
        found = {
            (row["level"], row["group"], row["week"], row["metric"]): row["total"]
            for row in table.to_pylist()
        }
        columns: dict[str, list[object]] = {name: [] for name in MEASUREMENT_SCHEMA.names}
        keys = [
            (plan.level.value, group, week, plan.metric, plan.scale)
            for plan in strategy.metric_plans
            for group in groups[plan.level]
            for week in block.weeks
        ]
        if strategy.span_of(block).first == block:
            keys += [
                (level.value, group, block.start, HEADCOUNT, 1)
                for level in strategy.levels
                for group in groups[level]
            ]
        for level, group, week, name, scale in keys:
            columns["level"].append(level)
            columns["group"].append(group)
            columns["week"].append(week)
            columns["metric"].append(name)
            columns["noisy"].append(found.get((level, group, week, name), 0))
            columns["sigma"].append(1e-6)  # not 0: noise-free rows are refused outside exact mode
            columns["scale"].append(scale)
        parts.append(pa.Table.from_pydict(columns, schema=MEASUREMENT_SCHEMA))
    return pa.concat_tables(parts)


def _without_noise(strategy: Strategy) -> Strategy:
    plans = tuple(replace(plan, sigma=0.0, rho=0) for plan in strategy.metric_plans)  # type: ignore[arg-type]
    counts = tuple(replace(plan, rho_per_span=0) for plan in strategy.headcount_plans)  # type: ignore[arg-type]
    return replace(strategy, metric_plans=plans, headcount_plans=counts)


def _engine_cells(
    strategy: Strategy, rows: pa.Table, structures: dict[str, pa.Table]
) -> dict[tuple[str, str, str, str], tuple[object, ...]]:
    found = {}
    policy = strategy.policy
    for report in policy.reports:
        spec = ReleaseSpec.build(policy, report.report_id, list(policy.windows(report.cadence)))
        table = derive(strategy, spec, rows, structures, release_id="bench", rho_charged=Rho.zero())
        for cell in table.cells:
            found[(report.report_id, cell.window, cell.metric, cell.group)] = (
                cell.value,
                cell.lower,
                cell.upper,
                cell.clamped,
                cell.uncertain,
            )
    return found


def run_engine(ds: Dataset, policy: Policy, seeds: int) -> list[list[Cell]]:
    """``seeds`` independent releases of the whole catalogue by the product's engine."""
    return [_one_run(ds, policy, prepared) for prepared in [_prepare(ds, policy)] for _ in range(seeds)]


def _prepare(ds: Dataset, policy: Policy) -> tuple[object, ...]:
    strategy = Strategy.for_policy(policy)
    aggregates, structures, groups = _aggregates(ds, strategy)
    exact = _engine_cells(_without_noise(strategy), _exact_rows(strategy, aggregates, groups), structures)
    means, sizes = _truth(replace(ds, policy=policy), _placement(replace(ds, policy=policy)))
    return strategy, aggregates, structures, groups, exact, means, sizes, _ceilings(strategy)


def _one_run(ds: Dataset, policy: Policy, prepared: tuple[object, ...]) -> list[Cell]:
    strategy, aggregates, structures, groups, exact, means, sizes, ceilings = prepared
    assert isinstance(strategy, Strategy)
    rows = pa.concat_tables(
        [measure_block(strategy, block, aggregates[block.key], groups) for block in strategy.blocks]  # type: ignore[index,arg-type]
    )
    noisy = _engine_cells(strategy, rows, structures)  # type: ignore[arg-type]
    return _judged(policy, noisy, exact, means, sizes, ceilings)  # type: ignore[arg-type]


def run_engine_with_bounds(
    ds: Dataset, policy: Policy, seeds: int, share: Fraction
) -> tuple[list[list[Cell]], str]:
    """Releases whose bounds were first suggested from the data, each run paying ``share`` of ρ for it.

    The catalogue keeps 1 − ``share`` of its budget; the bounds come from a noisy histogram of the
    first clipping block (``teamlens policy suggest-bounds``), drawn afresh for every run.
    """
    scaled = tuple(
        replace(report, budget_share=report.budget_share * (1 - share)) for report in policy.reports
    )
    piloted = replace(policy, reports=scaled, design=replace(policy.design, bounds_share=share))
    strategy = Strategy.for_policy(piloted)
    plan = plan_bounds(piloted, share)
    pilot = strategy.blocks[0]
    counts = ds.store.rms_histogram(weeks=pilot.weeks, edges=plan.edges)
    sizes = _typical_sizes(ds, strategy)
    runs, chosen = [], []
    for _ in range(seeds):
        noisy = noisy_histograms(plan, counts)
        bounds = tuple(
            MetricBound(name, max(1, round(suggest_bound(strategy, spread(plan, name, noisy[name]), sizes))))
            for name in plan.metrics
        )
        run_policy = replace(piloted, metrics=bounds)
        runs.append(_one_run(ds, run_policy, _prepare(ds, run_policy)))
        chosen.append({bound.name: bound.per_week for bound in bounds})
    summary = ", ".join(
        f"{name} {statistics.median(run[name] for run in chosen) / METRICS[name].display_divisor:g}"
        for name in plan.metrics
    )
    return runs, f"median bounds chosen: {summary} per week"


def _typical_sizes(ds: Dataset, strategy: Strategy) -> dict[GroupLevel, float]:
    """The median size of the groups shown at each level the catalogue releases (from the directory)."""
    people = ds.directory.drop_duplicates("person")
    found: dict[GroupLevel, float] = {}
    for level in strategy.levels:
        if level is GroupLevel.ORGANISATION:
            found[level] = float(len(people))
            continue
        counts = people[level.value].value_counts().tolist()
        shown = [size for size in counts if size >= ds.policy.min_group_size]
        found[level] = float(statistics.median(shown or [2 * ds.policy.min_group_size]))
    return found


def _ceilings(strategy: Strategy) -> dict[tuple[str, str], float]:
    from teamlens.privacy import per_week_ceiling

    policy = strategy.policy
    found = {}
    for report in policy.reports:
        for window in policy.windows(report.cadence):
            for name in report.metrics:
                bound = per_week_ceiling(strategy, window, policy.metric_bound(name).per_week)
                found[(window.key, name)] = bound / METRICS[name].display_divisor
    return found


def _judged(policy: Policy, noisy: dict, exact: dict, means: dict, sizes: dict, ceilings: dict) -> list[Cell]:
    cadence = {report.report_id: report.cadence.value for report in policy.reports}
    cells = []
    for key, (value, lower, upper, clamped, uncertain) in noisy.items():
        report, window, name, group = key
        estimand = exact.get(key, (None,))[0]
        cells.append(
            Cell(
                cadence[report],
                window,
                name,
                group,
                sizes.get((report, window, group), 0.0),
                value,
                lower,
                upper,
                ceilings[(window, name)],
                bool(clamped),
                means.get(key, float("nan")),
                float("nan") if estimand is None else float(estimand),
                bool(uncertain),
            )
        )
    return cells


def run_baseline(ds: Dataset, seeds: int) -> list[list[Cell]]:
    """``seeds`` releases of the catalogue by the even-split baseline."""
    policy = ds.policy
    placement = _placement(ds)
    truth = baseline_truth(policy, ds.facts, placement)
    means, sizes = _truth(ds, placement)
    groups = {
        level.value: sorted(ds.directory[level.value].astype(str).unique())
        for level in {r.level for r in policy.reports}
    }
    cadence = {report.report_id: report.cadence.value for report in policy.reports}
    runs = []
    for _ in range(seeds):
        cells = []
        for cell in release_baseline(policy, truth, groups):
            window = next(
                w
                for r in policy.reports
                if r.report_id == cell.report
                for w in policy.windows(r.cadence)
                if w.key == cell.window
            )
            ceiling = policy.metric_bound(cell.metric).per_week / METRICS[cell.metric].display_divisor
            cells.append(
                Cell(
                    cadence[cell.report],
                    cell.window,
                    cell.metric,
                    cell.group,
                    sizes.get((cell.report, cell.window, cell.group), 0.0),
                    cell.value,
                    cell.lower,
                    cell.upper,
                    ceiling,
                    cell.value is not None and (cell.value <= 0 or cell.value >= ceiling),
                    means.get((cell.report, cell.window, cell.metric, cell.group), float("nan")),
                    cell.estimand,
                )
            )
            del window
        runs.append(cells)
    return runs


# -- statistics ------------------------------------------------------------------------------


def _errors(cells: Iterable[Cell]) -> list[float]:
    return [abs(c.value - c.truth) / c.truth for c in cells if c.value is not None and c.truth > 0]


def _summary(errors: Sequence[float]) -> str:
    if not errors:
        return "–"
    return f"{statistics.median(errors):.2f} / {float(np.percentile(errors, 90)):.2f}"


def _covered(cells: Iterable[Cell], target: Callable[[Cell], float]) -> str:
    shown = [c for c in cells if c.value is not None and math.isfinite(target(c))]
    if not shown:
        return "–"
    hits = sum(c.lower - 1e-9 <= target(c) <= c.upper + 1e-9 for c in shown)  # type: ignore[operator]
    return f"{hits / len(shown):.1%} ({len(shown)})"


def _median_of(
    cells: Sequence[Cell],
    cadence: str,
    value: Callable[[Cell], float | None],
    against: Callable[[Cell], float] | None = None,
) -> str:
    """The median of |value − against| / truth over ``cadence``'s cells (against: the unclipped mean).

    Cells without a finite value or reference are left out (a group the noise-free run suppresses
    has no estimand: a NaN in the list would make the median meaningless).
    """
    errors = [
        abs(float(value(c)) - (against(c) if against else c.truth)) / c.truth  # type: ignore[arg-type]
        for c in cells
        if c.cadence == cadence and value(c) is not None and math.isfinite(float(value(c)))  # type: ignore[arg-type]
    ]
    finite = [error for error in errors if math.isfinite(error)]
    return f"{statistics.median(finite):.2f}" if finite else "–"


def _band(size: float) -> str:
    for low, high in BANDS:
        if low <= size <= high:
            return f"{low}–{high}" if high < 10**9 else f"{low}+"
    return "<10"


def _suppression(cells: Iterable[Cell], k: int) -> tuple[str, str]:
    big = [c for c in cells if c.size >= 2 * k]
    small = [c for c in cells if c.size < k / 2]
    return _shown(big), _shown(small)


def _shown(group: Sequence[Cell]) -> str:
    if not group:
        return "–"
    return f"{sum(c.value is not None for c in group) / len(group):.1%} ({len(group)})"


def _per_group_shown(runs: Sequence[Sequence[Cell]], keep: Callable[[float], bool]) -> list[float]:
    """For each (cadence, window, group) whose true size passes ``keep``: the share of releases showing it.

    Suppression is decided per group and window (every metric alike), so each release counts once.
    """
    shown: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    for run in runs:
        seen: set[tuple[str, str, str]] = set()
        for c in run:
            key = (c.cadence, c.window, c.group)
            if key not in seen and keep(c.size):
                seen.add(key)
                shown[key].append(c.value is not None)
    return [sum(flags) / len(flags) for flags in shown.values()]


def _suppression_rows(label: str, runs: Sequence[Sequence[Cell]], k: int) -> str:
    """One row of the suppression table: pooled and worst per-group rates, and whether the goal holds."""
    big = _per_group_shown(runs, lambda size: size >= 2 * k)
    small = _per_group_shown(runs, lambda size: size < k / 2)
    cells = [
        f"{statistics.mean(big):.1%} / {min(big):.1%} ({len(big)})" if big else "–",
        f"{statistics.mean(small):.1%} / {max(small):.1%} ({len(small)})" if small else "–",
    ]
    met = (not big or min(big) >= 0.95) and (not small or max(small) <= 0.05)
    return f"| {label} | {' | '.join(cells)} | {'yes' if met else 'no'} |"


def _section(name: str, policy: Policy, engines: dict[str, list[list[Cell]]]) -> list[str]:
    k = policy.min_group_size
    lines = [f"### {name} (ρ = {float(policy.rho.value):g}, k = {k})", ""]
    lines += [
        "| engine | weekly | monthly | quarterly | shown ≥ 2k | shown < k/2 |",
        "|---|---|---|---|---|---|",
    ]
    for label, runs in engines.items():
        cells = [cell for run in runs for cell in run]
        per = {c: _errors(cell for cell in cells if cell.cadence == c) for c in ("week", "month", "quarter")}
        big, small = _suppression(cells, policy.min_group_size)
        errors = " | ".join(_summary(per[cadence]) for cadence in ("week", "month", "quarter"))
        lines.append(f"| {label} | {errors} | {big} | {small} |")
    lines += [
        "",
        f"Suppression by true average size over the window (goal: groups of at least 2k = {2 * k} shown "
        f"in at least 95% of releases, groups under k/2 = {k / 2:g} in at most 5%): "
        "per (group, window), the share of releases that showed it, as the mean over groups / the worst "
        "group (lowest for large groups, highest for small ones), with the number of (group, window) pairs.",
        "",
        "| engine | ≥ 2k shown: mean / lowest | < k/2 shown: mean / highest | goal met |",
        "|---|---|---|---|",
    ]
    lines += [_suppression_rows(label, runs, k) for label, runs in engines.items()]
    lines += [
        "",
        "Where the error comes from (median relative error per cadence, weekly / monthly / quarterly): "
        "clipping bias alone is the engine's estimand (what it would publish with infinite budget) "
        "against the unclipped mean; noise alone is the released value against that estimand.",
        "",
        "| engine | clipping bias alone | noise alone |",
        "|---|---|---|",
    ]
    for label, runs in engines.items():
        cells = [cell for run in runs for cell in run if cell.value is not None and cell.truth > 0]
        cadences = ("week", "month", "quarter")
        bias = " / ".join(_median_of(cells, c, lambda cell: cell.estimand) for c in cadences)
        noise = " / ".join(
            _median_of(cells, c, lambda cell: cell.value, against=lambda cell: cell.estimand)
            for c in cadences
        )
        lines.append(f"| {label} | {bias} | {noise} |")
    lines += [
        "",
        "Coverage of the 95% intervals, against each engine's estimand and against the unclipped mean:",
        "",
    ]
    lines += ["| engine | stratum | coverage | vs unclipped |", "|---|---|---|---|"]
    for label, runs in engines.items():
        cells = [cell for run in runs for cell in run if cell.value is not None]
        strata: dict[str, list[Cell]] = defaultdict(list)
        for cell in cells:
            strata[f"cadence {cell.cadence}"].append(cell)
            strata[f"size {_band(cell.size)}"].append(cell)
            if cell.upper - cell.lower < cell.ceiling - 1e-9:  # type: ignore[operator]
                strata["narrower than [0, bound]"].append(cell)
            if not cell.uncertain:
                strata["shown as a number (not too uncertain)"].append(cell)
            if cell.clamped:
                strata["shown at 0 or the bound"].append(cell)
            if cell.upper - cell.lower <= 1e-12:  # type: ignore[operator]
                strata["zero width"].append(cell)
        for stratum in sorted(strata):
            group = strata[stratum]
            estimand, truth = _covered(group, lambda c: c.estimand), _covered(group, lambda c: c.truth)
            lines.append(f"| {label} | {stratum} | {estimand} | {truth} |")
    return [*lines, ""]


def _alone(policy: Policy, report_id: str) -> Policy:
    """The catalogue cut down to one report with the whole catalogue's budget and a sliver for headcounts."""
    total = sum((report.budget_share for report in policy.reports), Fraction(0))
    report = replace(policy.report(report_id), budget_share=total)
    return replace(policy, reports=(report,), design=replace(policy.design, headcount_share=Fraction(1, 100)))


def _variants(policy: Policy) -> dict[str, Policy]:
    design = policy.design
    floors = {}
    if len({report.level for report in policy.reports}) > 1:
        # With one level per cadence there is no budget to pool: show what a report could reach
        # with the whole budget to itself, the floor any split of this budget stays above.
        floors = {
            f"floor: {report.report_id} alone, whole budget": _alone(policy, report.report_id)
            for report in policy.reports
        }
    return {
        **floors,
        "weekly base, headcount per month": replace(
            policy, design=replace(design, clipping_block=Cadence.WEEK, headcount_span=HeadcountSpan.MONTH)
        ),
        "+ headcount per span (auto)": replace(policy, design=replace(design, clipping_block=Cadence.WEEK)),
        "+ L2 clipping per month (default)": policy,
        "+ L2 clipping per quarter": replace(policy, design=replace(design, clipping_block=Cadence.QUARTER)),
    }


def run() -> str:
    """Measure every dataset and return the Markdown section."""
    # TEAMLENS_BENCH_ACCURACY_SEEDS lowers the number of releases when the machine is too loaded.
    seeds = 4 if quick() else int(os.environ.get("TEAMLENS_BENCH_ACCURACY_SEEDS", SEEDS))
    lines = ["## Accuracy: the catalogue strategy against the even split", ""]
    lines.append(
        f"{seeds} independent releases of every window of every report per engine; relative error = "
        "|released − exact unclipped mean| / exact mean over shown cells, as median / 90th percentile. "
        "Suppression: the share of (group, window) cells shown, by true group size."
    )
    lines.append("")
    # TEAMLENS_BENCH_ACCURACY_DATA=pq_data,demo measures only those (all three by default).
    chosen = os.environ.get("TEAMLENS_BENCH_ACCURACY_DATA", "pq_data,email-eu-core,demo").split(",")
    datasets = [pq_data()] if "pq_data" in chosen else []
    eu = email_eu_core() if "email-eu-core" in chosen else None
    if eu is not None:
        datasets.append(eu)
    if "demo" in chosen:
        datasets.append(demo(people=300 if quick() else 2000))
    for ds in datasets:
        began = time.perf_counter()
        engines = {"even split (baseline)": run_baseline(ds, seeds)}
        for label, variant in _variants(ds.policy).items():
            engines[label] = run_engine(ds, variant, seeds)
        engines["+ bounds from data (5% of ρ)"], chosen = run_engine_with_bounds(
            ds, ds.policy, seeds, Fraction(1, 20)
        )
        lines += _section(ds.name, ds.policy, engines)
        lines.append(f"Bounds from data: {chosen}.")
        lines.append(f"({time.perf_counter() - began:.0f} s)")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())

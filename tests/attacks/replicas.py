"""Many independent runs of the release engine at once: copies of a few groups in one block's vectors.

A real release measures each clipping block once and keeps it (attack A4), so thousands of
independent releases would need thousands of installations. The engine adds independent noise to
every entry of a block's vectors and derives a group's numbers only from the measurements of its
own family (its parents, its children, its siblings through the parent), so N copies of a small
organisation — a *unit*: a few groups per level, each copy with its own parents — measured in one
vector are N independent runs of the release as far as those groups are concerned. The runs call
the engine's own functions: ``measure_block`` (OpenDP's discrete Gaussian, checked against the
block's share of ρ) and ``services.release.derive`` (least-squares consistency, then ``assemble``).

Attacks usually look at a *sub-strategy*: the policy's strategy with some metrics (and levels)
left out. Every (level, metric) vector gets its own noise and is reconciled across levels on its
own; only the headcounts are shared by every metric, and they stay in. So the measurements kept
are distributed exactly as in the full release; what is left out adds only its own, separately
charged, loss. Leaving out a level changes what the others are reconciled with, which is
post-processing: it cannot add loss, and the bounds are computed from the measurements.

Truths are keyed like the store's block aggregates: (level, group, week, metric) → the clipped
fixed-point total (person-weeks for ``headcount``, dated on the block's first Monday).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pyarrow as pa

from teamlens.domain import (
    BLOCK_AGGREGATE_SCHEMA,
    HEADCOUNT,
    STRUCTURE_SCHEMA,
    GroupLevel,
    Policy,
    ReleasedTable,
    Rho,
)
from teamlens.privacy import Block, ReleaseSpec, Strategy
from teamlens.privacy import noise as noise_module
from teamlens.services import Workspace
from teamlens.services.release import derive
from teamlens.store import MetricClip

Key = tuple[str, str, dt.date, str]  # level, group, week, metric
Truth = Mapping[Key, int]
Measure = Callable[[Strategy, Block, pa.Table, Mapping[GroupLevel, Sequence[str]]], pa.Table]

#: Between a unit's group name and the run number in a replica's group name ("T@0000042").
SEPARATOR = "@"


def sub_strategy(
    policy: Policy, *, metrics: Collection[str] | None = None, levels: Collection[GroupLevel] | None = None
) -> Strategy:
    """The policy's strategy with only ``metrics`` at only ``levels`` (σ and shares unchanged)."""
    strategy = Strategy.for_policy(policy)
    kept = tuple(level for level in strategy.levels if levels is None or level in levels)
    plans = tuple(
        plan
        for plan in strategy.metric_plans
        if plan.level in kept and (metrics is None or plan.metric in metrics)
    )
    counts = tuple(plan for plan in strategy.headcount_plans if plan.level in kept)
    return replace(strategy, levels=kept, metric_plans=plans, headcount_plans=counts)


def opens_span(strategy: Strategy, block: Block) -> bool:
    """True when ``block`` is the first of its headcount span (its person-weeks are measured)."""
    return strategy.span_of(block).first == block


def clips_of(strategy: Strategy, block: Block) -> dict[str, MetricClip]:
    """How the service clips each metric in ``block`` (``services.release._measure``)."""
    return {
        plan.metric: MetricClip(plan.per_week * block.n_weeks**0.5, plan.scale)
        for plan in strategy.metric_plans
    }


def store_truth(
    ws: Workspace,
    strategy: Strategy,
    blocks: Sequence[Block],
    exclude: Collection[str] = (),
    clips: Callable[[Strategy, Block], Mapping[str, MetricClip]] = clips_of,
) -> dict[Key, int]:
    """The clipped fixed-point totals the service would measure in ``blocks``, from the store."""
    wanted = {(plan.level.value, plan.metric) for plan in strategy.metric_plans}
    truth: dict[Key, int] = {}
    for block in blocks:
        table = ws.store.aggregate_block(
            levels=[level.value for level in strategy.levels],
            weeks=block.weeks,
            clips=clips(strategy, block),
            headcount=opens_span(strategy, block),
            exclude=exclude,
        )
        for row in table.to_pylist():
            if row["metric"] == HEADCOUNT or (row["level"], row["metric"]) in wanted:
                truth[(row["level"], row["group"], row["week"], row["metric"])] = int(row["total"])
    return truth


def renamed(truth: Truth, names: Mapping[tuple[str, str], str]) -> dict[Key, int]:
    """The totals of the (level, group) pairs in ``names``, under the unit's names for them."""
    found: dict[Key, int] = {}
    for (level, group, week, name), total in truth.items():
        local = names.get((level, group))
        if local is not None:
            key = (level, local, week, name)
            found[key] = found.get(key, 0) + total
    return found


def plus(truth: Truth, shift: Truth, sign: int = 1) -> dict[Key, int]:
    """Key-wise ``truth + sign × shift`` (a key missing from either counts as 0)."""
    found = dict(truth)
    for key, delta in shift.items():
        found[key] = found.get(key, 0) + sign * delta
    return found


def extreme_shift(
    strategy: Strategy,
    blocks: Sequence[Block],
    placement: Mapping[GroupLevel, str],
    *,
    weeks: Collection[dt.date] | None = None,
    metrics: bool = True,
    headcount: bool = True,
) -> dict[Key, int]:
    """What a worker at every bound adds, in the groups ``placement`` gives them at each level.

    In every week of ``blocks`` (or only those in ``weeks``) each metric gets the bound in
    fixed-point units, so the worker's vector in a block has exactly the L2 norm the block clips
    to (or less, present in fewer weeks); the headcount of a span's first block gets their weeks.
    """
    shift: dict[Key, int] = {}
    for block in blocks:
        present = [week for week in block.weeks if weeks is None or week in weeks]
        for plan in strategy.metric_plans if metrics else ():
            for week in present:
                shift[(plan.level.value, placement[plan.level], week, plan.metric)] = (
                    plan.scale * plan.per_week
                )
        if headcount and present and opens_span(strategy, block):
            for level in strategy.levels:
                shift[(level.value, placement[level], block.start, HEADCOUNT)] = len(present)
    return shift


def sigma_of(strategy: Strategy, key: Key) -> float:
    """The configured noise σ of one measured entry (fixed-point units, or person-weeks)."""
    level, _, week, name = key
    if name == HEADCOUNT:
        span = strategy.span_of(strategy.block_of(week))
        return strategy.headcount_plan(GroupLevel(level)).sigma(span)
    return strategy.metric_plan(GroupLevel(level), name).sigma


def gaussian_mu(strategy: Strategy, shift: Truth) -> float:
    """μ = √(Σ Δ²/σ²): how far apart two neighbours' measurements are, in noise units."""
    return float(
        np.sqrt(sum((delta / sigma_of(strategy, key)) ** 2 for key, delta in shift.items() if delta))
    )


def shift_rho(strategy: Strategy, shift: Truth) -> Rho:
    """The configured ρ of every vector ``shift`` moves: its block's share, or its span's headcount."""
    moved: dict[tuple[str, ...], object] = {}
    for (level, _, week, name), delta in shift.items():
        if not delta:
            continue
        block = strategy.block_of(week)
        if name == HEADCOUNT:
            span = strategy.span_of(block)
            moved[("headcount", level, span.key)] = strategy.headcount_plan(GroupLevel(level)).rho_per_span
        else:
            plan = strategy.metric_plan(GroupLevel(level), name)
            moved[(level, name, block.key)] = strategy.block_rho(plan, block)
    return Rho(sum(moved.values(), start=Rho.zero().value))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Unit:
    """The groups one run covers, per level, and the group each nests in (level, group) → (level, group)."""

    groups: Mapping[GroupLevel, Sequence[str]]
    parents: Mapping[tuple[GroupLevel, str], tuple[GroupLevel, str]] = field(default_factory=dict)

    def structure(self, runs: int) -> pa.Table:
        """The organisation chart of ``runs`` copies (``STRUCTURE_SCHEMA``)."""
        rows = [
            (child[0].value, name(child[1], run), parent[0].value, name(parent[1], run))
            for run in range(runs)
            for child, parent in self.parents.items()
        ]
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in STRUCTURE_SCHEMA.names]
        return pa.Table.from_arrays(
            [pa.array(list(column), pa.string()) for column in columns], schema=STRUCTURE_SCHEMA
        )


def name(group: str, run: int) -> str:
    """A replica's group name: the unit's name (a hidden key stays hidden) and the run number."""
    return f"{group}{SEPARATOR}{run:07d}"


def replicate(
    strategy: Strategy,
    blocks: Sequence[Block],
    unit: Unit,
    truth: Truth,
    runs: int,
    *,
    measure: Measure | None = None,
) -> Runs:
    """Measure ``blocks`` for ``runs`` copies of ``unit`` holding ``truth`` (see the module docstring)."""
    measure = measure or _measure_block
    groups = {
        level: [name(group, run) for run in range(runs) for group in unit.groups[level]]
        for level in strategy.levels
    }
    structure = unit.structure(runs)
    parts, aggregates = [], {}
    for block in blocks:
        weeks = set(block.weeks)
        base = [
            (key, total)
            for key, total in truth.items()
            if total
            and (
                key[2] in weeks
                if key[3] != HEADCOUNT
                else key[2] == block.start and opens_span(strategy, block)
            )
        ]
        table = pa.Table.from_pydict(
            {
                "level": [key[0] for _ in range(runs) for key, _ in base],
                "group": [name(key[1], run) for run in range(runs) for key, _ in base],
                "week": [key[2] for _ in range(runs) for key, _ in base],
                "metric": [key[3] for _ in range(runs) for key, _ in base],
                "total": [total for _ in range(runs) for _, total in base],
            },
            schema=BLOCK_AGGREGATE_SCHEMA,
        )
        aggregates[block.key] = table
        parts.append(measure(strategy, block, table, groups))
    return Runs(
        strategy, runs, pa.concat_tables(parts), {block.key: structure for block in blocks}, aggregates
    )


def _measure_block(
    strategy: Strategy, block: Block, aggregates: pa.Table, groups: Mapping[GroupLevel, Sequence[str]]
) -> pa.Table:
    # Looked up at call time, so that a test's patch of the module (a weakened sampler) applies.
    return noise_module.measure_block(strategy, block, aggregates, groups)


@dataclass(frozen=True)
class Released:
    """One released cell over every run: NaN where the run suppressed it."""

    value: np.ndarray
    total: np.ndarray
    person_weeks: np.ndarray


@dataclass(frozen=True)
class Runs:
    """The measurements of every run, with what deriving releases from them needs."""

    strategy: Strategy
    runs: int
    rows: pa.Table  # MEASUREMENT_SCHEMA, every block
    structures: dict[str, pa.Table]
    aggregates: dict[str, pa.Table]  # the true totals measured, per block (for teeth that leak them)
    derived: dict[str, dict[tuple[str, str, str], Released]] = field(default_factory=dict, compare=False)

    @cached_property
    def _noisy(self) -> dict[Key, np.ndarray]:
        frame = self.rows.select(["level", "group", "week", "metric", "noisy"]).to_pandas()
        split = frame["group"].str.rsplit(SEPARATOR, n=1, expand=True)
        frame["local"], frame["run"] = split[0], split[1].astype(int)
        frame = frame.sort_values("run", kind="stable")
        return {
            (level, local, week, metric): part["noisy"].to_numpy(dtype=float)
            for (level, local, week, metric), part in frame.groupby(
                ["level", "local", "week", "metric"], sort=False
            )
        }

    def noisy(self, key: Key) -> np.ndarray:
        """The noisy value of one entry in every run, in run order."""
        return self._noisy[key]

    def table(self, spec: ReleaseSpec, strategy: Strategy | None = None) -> ReleasedTable:
        """The released table of ``spec`` over every run, as ``derive`` builds it (groups "T@0000042")."""
        return derive(
            strategy or self.strategy,
            spec,
            self.rows,
            self.structures,
            release_id="attack",
            rho_charged=Rho.zero(),
        )

    def release(
        self, spec: ReleaseSpec, strategy: Strategy | None = None
    ) -> dict[tuple[str, str, str], Released]:
        """Derive ``spec`` from every run's measurements: (unit group, window, metric) → its cells."""
        if strategy is None and spec.key in self.derived:
            return self.derived[spec.key]
        found: dict[tuple[str, str, str], list[tuple[int, float, float, float]]] = {}
        for cell in self.table(spec, strategy).cells:
            local, run = cell.group.rsplit(SEPARATOR, 1)
            shown = cell.value is not None
            found.setdefault((local, cell.window, cell.metric), []).append(
                (
                    int(run),
                    cell.value if shown else np.nan,  # type: ignore[list-item]
                    cell.total if shown else np.nan,  # type: ignore[list-item]
                    cell.person_weeks if shown else np.nan,  # type: ignore[list-item]
                )
            )
        released = {}
        for key, items in found.items():
            items.sort()
            released[key] = Released(*(np.array([item[index] for item in items]) for index in (1, 2, 3)))
        if strategy is None:
            self.derived[spec.key] = released
        return released


def likelihood_statistic(strategy: Strategy, runs: Runs, shift: Truth) -> np.ndarray:
    """The Neyman–Pearson statistic Σ X·Δ/σ² of each run, for neighbours ``shift`` apart.

    For Gaussian noise this is the most powerful test of one neighbour against the other, so
    thresholds on it are the strongest one-dimensional events; σ is the configured one (a
    broken mechanism that draws less noise is judged against what it claims).
    """
    total = np.zeros(runs.runs)
    for key, delta in shift.items():
        if delta:
            total += runs.noisy(key) * delta / sigma_of(strategy, key) ** 2
    return total


def statistic_mean(strategy: Strategy, truth: Truth, shift: Truth) -> float:
    """The noise-free value of ``likelihood_statistic`` on ``truth`` (where its runs centre)."""
    return float(
        sum(truth.get(key, 0) * delta / sigma_of(strategy, key) ** 2 for key, delta in shift.items())
    )


#: A department "D" holding the target's team "T" and every other member of D as one team "R".
FAMILY = Unit(
    {GroupLevel.DEPARTMENT: ("D",), GroupLevel.TEAM: ("T", "R")},
    {
        (GroupLevel.TEAM, "T"): (GroupLevel.DEPARTMENT, "D"),
        (GroupLevel.TEAM, "R"): (GroupLevel.DEPARTMENT, "D"),
    },
)


#: A department "D" that is exactly one team "T" (fewer draws per run; used where realism matters less).
SOLO = Unit(
    {GroupLevel.DEPARTMENT: ("D",), GroupLevel.TEAM: ("T",)},
    {(GroupLevel.TEAM, "T"): (GroupLevel.DEPARTMENT, "D")},
)


def as_solo(truth: Truth) -> dict[Key, int]:
    """A FAMILY truth as SOLO's: team T alone, and its department holding exactly T's totals."""
    found: dict[Key, int] = {}
    for (level, group, week, name), total in truth.items():
        if level == "team" and group == "T":
            found[(level, group, week, name)] = total
            found[("department", "D", week, name)] = total
    return found


def family_names(ws: Workspace, block: Block, department: str, team: str) -> dict[tuple[str, str], str]:
    """``FAMILY``'s names for the store's groups: D, T, and every other team-level key of D as R.

    The organisation chart is the one the engine reconciles ``block`` with (``store.structure``).
    """
    chart = ws.store.structure(levels=["department", "team"], first_day=block.start, end_day=block.end)
    names = {("department", department): "D", ("team", team): "T"}
    for row in chart.to_pylist():
        if row["level"] == "team" and row["parent_group"] == department and row["group"] != team:
            names[("team", row["group"])] = "R"
    return names

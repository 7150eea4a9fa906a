"""The team-to-team collaboration network as a differentially private weighted graph.

**What is measured.** For one clipping block and one level (departments, say), the vector of
every ordered pair of the level's groups — all of them, from the directory's group list, never
from the data — holding the weight (messages, or meeting hours) that members of the first group
sent to, or spent with, members of the second. The pair (g, g) is collaboration inside g.

**Bounds (done by the store, ``store._collaboration``).** An edge row is one person's own
activity — a message they sent, their share of a meeting they attended — towards one partner
(a pseudonym), placed at both ends by the directory on that week's Monday. Within a block:

1. each person's rows are scaled down together when their sum exceeds ``B`` (= ``per_week`` ×
   weeks): what one person sends is bounded in L1 across all edges;
2. then the rows towards each partner are scaled down together when their sum exceeds ``B``:
   what one person receives is bounded too;
3. rows whose either end the directory does not place are dropped, and each edge's total is
   floored to fixed-point units (``scale`` per stored unit).

**Sensitivity.** Neighbouring data differ in one person ``p``'s activity rows and directory
rows (others' messages to ``p`` stay in their senders' data: they are the senders' activity).
Removing ``p`` removes ``p``'s rows (≤ B after step 1) from their partners' incoming vectors;
scaling a non-negative vector onto the L1 ball of radius B moves it, in L1, by at most twice
what was removed, so all edges move together by at most 2B through step 2; the rows towards
``p`` (≤ B after step 2) lose their placement and drop out. So one person moves the network's
real-valued totals by at most ``Δ₁ = 3B`` in L1 (so also in L2, and any single edge by at most
Δ₁). Flooring each edge adds less than one unit per edge, so the integer vector's L2
sensitivity is ``⌈3B·scale⌉ + ⌈√edges⌉``, and that is what OpenDP's discrete Gaussian is
calibrated to (``NetworkPlan.sensitivity``).

Everything after the noise is post-processing: weekly edge weights with 95% intervals
(``network_edges``) and the share of collaboration that leaves one's own group
(``outside_share``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import MEASUREMENT_SCHEMA, GroupLevel
from teamlens.errors import InternalError
from teamlens.privacy._opendp import add_discrete_gaussian, calibrate_sigma, zcdp_cost

#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054
#: The columns a network aggregate must have (``store._collaboration.NETWORK_AGGREGATE_SCHEMA``).
AGGREGATE_COLUMNS = ("source", "target", "total")
#: Noisy edge totals as measured and kept: the only per-edge numbers that leave the engine.
NETWORK_MEASUREMENT_SCHEMA = pa.schema(
    [
        pa.field("level", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("target", pa.string(), nullable=False),
        pa.field("noisy", pa.int64(), nullable=False),
        pa.field("sigma", pa.float64(), nullable=False),
        pa.field("scale", pa.int64(), nullable=False),
        pa.field("weeks", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class NetworkPlan:
    """One block's network measurement at ``level``: bounds, fixed-point scale, noise and its budget.

    ``per_week`` is the most one person may send (and receive) per week, in stored units;
    ``groups`` how many groups the level's directory list holds (edges are every ordered pair).
    """

    level: GroupLevel
    per_week: int
    weeks: int
    scale: int
    groups: int
    rho: Fraction
    sigma: float

    @property
    def bound(self) -> int:
        """B: what one person may send, and receive, in the block (stored units)."""
        return self.per_week * self.weeks

    @property
    def edges(self) -> int:
        """How many edges the vector holds: every ordered pair of groups, each group with itself too."""
        return self.groups * self.groups

    @property
    def l1_bound(self) -> int:
        """Δ₁ = 3B: the most one person moves all edges together (stored units; see the module docstring)."""
        return 3 * self.bound

    @property
    def sensitivity(self) -> int:
        """The integer L2 sensitivity the noise is calibrated to: ⌈Δ₁·scale⌉ + ⌈√edges⌉ (flooring)."""
        return self.l1_bound * self.scale + _ceil_sqrt(self.edges)


def plan_network(level: GroupLevel, per_week: int, weeks: int, groups: int, rho: Fraction) -> NetworkPlan:
    """The network measurement of one block with OpenDP's smallest σ whose cost fits ``rho``."""
    if per_week < 1 or weeks < 1 or groups < 1:
        raise InternalError("a network plan needs a positive bound, at least one week and one group")
    scale = 1
    while scale * per_week < 1024:  # as for metrics: one person's weekly bound is ≥ 1,024 units
        scale *= 2
    plan = NetworkPlan(level, per_week, weeks, scale, groups, rho, 0.0)
    return NetworkPlan(level, per_week, weeks, scale, groups, rho, _sigma(plan.sensitivity, rho))


def _sigma(sensitivity: int, rho: Fraction) -> float:
    return calibrate_sigma(sensitivity, rho)


def _check_noise(sigma: float, sensitivity: int, rho: Fraction) -> None:
    if not sigma > 0.0 or zcdp_cost(sigma, sensitivity) > rho:
        raise InternalError("the network's noise is missing or costs more than its share of the budget")


def measure_network(plan: NetworkPlan, aggregates: pa.Table, groups: Sequence[str]) -> pa.Table:
    """``NETWORK_MEASUREMENT_SCHEMA`` rows: every ordered pair of ``groups`` with OpenDP noise.

    ``aggregates`` holds the store's clipped fixed-point edge totals (missing pairs are 0);
    ``groups`` is the level's list from the directory. Raises ``InternalError`` when a row
    names a group outside the list, a total is negative, or the noise does not fit the budget.
    """
    if len(set(groups)) != len(groups) or len(groups) != plan.groups:
        raise InternalError("the network's group list does not match its plan (or names a group twice)")
    missing = set(AGGREGATE_COLUMNS) - set(aggregates.column_names)
    if missing:
        raise InternalError(f"the network aggregates lack the column(s) {', '.join(sorted(missing))}")
    _check_noise(plan.sigma, plan.sensitivity, plan.rho)
    known = set(groups)
    totals: dict[tuple[str, str], int] = {}
    for row in aggregates.select(list(AGGREGATE_COLUMNS)).to_pylist():
        if row["source"] not in known or row["target"] not in known:
            raise InternalError("a network aggregate names a group outside the directory's list")
        if row["total"] < 0:
            raise InternalError("a network aggregate is negative")
        key = (row["source"], row["target"])
        totals[key] = totals.get(key, 0) + int(row["total"])
    keys = [(source, target) for source in groups for target in groups]
    noisy = add_discrete_gaussian([totals.get(key, 0) for key in keys], plan.sigma)
    return pa.Table.from_pydict(
        {
            "level": [plan.level.value] * len(keys),
            "source": [source for source, _ in keys],
            "target": [target for _, target in keys],
            "noisy": noisy,
            "sigma": [plan.sigma] * len(keys),
            "scale": [plan.scale] * len(keys),
            "weeks": [plan.weeks] * len(keys),
        },
        schema=NETWORK_MEASUREMENT_SCHEMA,
    )


@dataclass(frozen=True)
class Edge:
    """One released edge: weight per week from ``source`` to ``target`` with its 95% interval.

    ``estimate`` is the unbiased noisy weight (may be negative), ``value`` the one shown;
    ``clamped`` when the estimate fell below 0 (shown as 0 with a one-sided interval);
    ``uncertain`` when the interval is wider than the value itself (mostly noise).
    """

    source: str
    target: str
    estimate: float
    value: float
    lower: float
    upper: float
    sd: float
    clamped: bool
    uncertain: bool


def network_edges(measurements: pa.Table, shown: Collection[str]) -> tuple[Edge, ...]:
    """Weekly edge weights (stored units per week) among the ``shown`` groups, summed over blocks.

    Post-processing only: a block's noisy totals add up, and so do their variances. Edges with
    an end outside ``shown`` (groups suppressed under k, hidden groups) are not returned.
    """
    sums: dict[tuple[str, str], list[float]] = {}
    for row in measurements.to_pylist():
        if row["source"] in shown and row["target"] in shown:
            found = sums.setdefault((row["source"], row["target"]), [0.0, 0.0, 0.0])
            found[0] += row["noisy"] / row["scale"]
            found[1] += (row["sigma"] / row["scale"]) ** 2
            found[2] += row["weeks"]
    return tuple(_edge(source, target, *found) for (source, target), found in sorted(sums.items()))


def _edge(source: str, target: str, total: float, variance: float, weeks: float) -> Edge:
    """The weekly weight of one edge; a negative noisy total is shown at 0 with a one-sided interval."""
    value, sd = total / weeks, math.sqrt(variance) / weeks
    half = Z95 * sd
    shown = max(value, 0.0)
    return Edge(
        source, target, value, shown, max(value - half, 0.0), shown + half, sd, value < 0, 2 * half > shown
    )


@dataclass(frozen=True)
class Share:
    """A share in [0, 1] with its 95% interval (delta method on independent noisy sums)."""

    value: float
    lower: float
    upper: float


def outside_share(edges: Sequence[Edge], source: str | None = None) -> Share | None:
    """The share of collaboration that leaves its own group (of ``source``'s, or of everyone's).

    ``value`` = Σ weight between different groups / Σ all weight, from the released edges (their
    noise is independent, so the variances of the two sums add up); None when the total is not
    above its own noise.
    """
    chosen = [edge for edge in edges if source is None or edge.source == source]
    inside = sum(edge.estimate for edge in chosen if edge.source == edge.target)
    outside = sum(edge.estimate for edge in chosen if edge.source != edge.target)
    var_inside = sum(edge.sd**2 for edge in chosen if edge.source == edge.target)
    var_outside = sum(edge.sd**2 for edge in chosen if edge.source != edge.target)
    total = inside + outside
    if total <= 0 or total <= Z95 * math.sqrt(var_inside + var_outside):
        return None
    share = min(max(outside / total, 0.0), 1.0)
    sd = math.sqrt((inside / total**2) ** 2 * var_outside + (outside / total**2) ** 2 * var_inside)
    return Share(share, max(share - Z95 * sd, 0.0), min(share + Z95 * sd, 1.0))


def _ceil_sqrt(value: int) -> int:
    return 0 if value <= 0 else math.isqrt(value - 1) + 1


#: Joins a pair's two group keys into the ``group`` of a kept measurement or a published cell.
PAIR = " → "


def as_kept(measured: pa.Table, metric: str, block_start: dt.date) -> pa.Table:
    """``NETWORK_MEASUREMENT_SCHEMA`` rows as the ledger keeps every measurement (``MEASUREMENT_SCHEMA``).

    Each pair is one "group" (``source → target``) dated on its block's first Monday, under the
    network's metric: so it is charged, kept, digested and audited like every other measurement.
    """
    return pa.Table.from_pydict(
        {
            "level": measured["level"],
            "group": pc.binary_join_element_wise(measured["source"], measured["target"], PAIR),
            "week": pa.array([block_start] * measured.num_rows, pa.date32()),
            "metric": pa.array([metric] * measured.num_rows, pa.string()),
            "noisy": measured["noisy"],
            "sigma": measured["sigma"],
            "scale": measured["scale"],
        },
        schema=MEASUREMENT_SCHEMA,
    )


def from_kept(kept: pa.Table, weeks: int) -> pa.Table:
    """One block's kept network rows (``MEASUREMENT_SCHEMA``, one metric) back as network measurements."""
    pairs = [group.split(PAIR, 1) for group in kept["group"].to_pylist()]
    if any(len(pair) != 2 for pair in pairs):
        raise InternalError("a kept network measurement does not name a pair of groups")
    return pa.Table.from_pydict(
        {
            "level": kept["level"],
            "source": pa.array([pair[0] for pair in pairs], pa.string()),
            "target": pa.array([pair[1] for pair in pairs], pa.string()),
            "noisy": kept["noisy"],
            "sigma": kept["sigma"],
            "scale": kept["scale"],
            "weeks": pa.array([weeks] * kept.num_rows, pa.int64()),
        },
        schema=NETWORK_MEASUREMENT_SCHEMA,
    )

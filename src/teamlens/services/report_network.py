"""The report's collaboration network: a heatmap of released edges and the share that crosses groups.

Reads released edges (``privacy.network.Edge``: noisy weekly weights between two groups with
their 95% intervals, among groups shown under the policy's minimum size) and lays them out for
``templates/_report_network.html``: one square per ordered pair of groups, shaded by weight when
the figure is worth reading (not too uncertain, not at 0), blank otherwise; and the share of
collaboration that leaves one's own group, for everyone and per group, with its interval
(``privacy.network.outside_share``, post-processing). Groups are in alphabetical order: the
network is never a ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from teamlens.domain import METRICS, Policy, ReleasedTable, ReportKind, Unit
from teamlens.privacy.network import PAIR, Edge, Share, outside_share
from teamlens.services.report_cells import number
from teamlens.services.report_charts import Heatmap, heatmap


@dataclass(frozen=True)
class NetworkView:
    """What the network section shows.

    ``unit`` says what an edge counts ("messages per week"); ``span`` which windows ("Jan 2026
    to Jun 2026"); ``outside`` everyone's share outside their own group ("" when too uncertain);
    ``by_group`` each group's share (alphabetical, only those worth reading); ``uncertain`` how
    many edges are too uncertain to shade.
    """

    level: str
    levels: str
    unit: str
    span: str
    chart: Heatmap | None
    outside: str
    outside_interval: str
    by_group: tuple[tuple[str, str], ...]
    uncertain: int

    @property
    def caption(self) -> str:
        """The heatmap's one sentence for a worker."""
        verb = (
            "spent by the {0} of its row with"
            if self.unit.startswith("meeting")
            else "sent from the {0} of its row to"
        )
        return (
            f"Each square is the {self.unit} {verb.format(self.level)} the {self.level} of "
            f"its column, darker for more, and a blank square is too uncertain to show."
        )


def _share(share: Share | None) -> tuple[str, str]:
    if share is None:
        return "", ""
    return f"{share.value:.0%}", f"{share.lower:.0%}–{share.upper:.0%}"


def network_view(edges: Sequence[Edge], *, level: str, unit: str, span: str) -> NetworkView | None:
    """The network section from released ``edges``; None when no edge was released."""
    if not edges:
        return None
    groups = sorted({edge.source for edge in edges} | {edge.target for edge in edges})
    decimals = 0 if max(edge.upper for edge in edges) >= 100 else 1
    cells: list[tuple[str, str, float | None, str]] = []
    for edge in edges:
        said = f"From {edge.source} to {edge.target}: "
        if edge.uncertain:
            cells.append((edge.source, edge.target, None, said + "too uncertain at this budget"))
        else:
            interval = f"{number(edge.lower, decimals)}–{number(edge.upper, decimals)}"
            said += f"{number(edge.value, decimals)} {unit} ({interval})"
            cells.append((edge.source, edge.target, edge.value, said))
    shares = {group: _share(outside_share(edges, group)) for group in groups}
    by_group = tuple((group, f"{value} ({interval})") for group, (value, interval) in shares.items() if value)
    outside, outside_interval = _share(outside_share(edges))
    return NetworkView(
        level=level,
        levels=f"{level}s",
        unit=unit,
        span=span,
        chart=heatmap(groups, cells),
        outside=outside,
        outside_interval=outside_interval,
        by_group=by_group,
        uncertain=sum(1 for edge in edges if edge.uncertain),
    )


def edges_of(table: ReleasedTable, window: str) -> tuple[Edge, ...]:
    """The released edges of a network report's ``window``, rebuilt from its published cells."""
    found = []
    for cell in table.cells:
        if cell.window != window or cell.value is None or PAIR not in cell.group:
            continue
        source, target = cell.group.split(PAIR, 1)
        found.append(
            Edge(
                source,
                target,
                cell.total if cell.total is not None else cell.value,
                cell.value,
                cell.lower if cell.lower is not None else cell.value,
                cell.upper if cell.upper is not None else cell.value,
                cell.sd_total or 0.0,
                cell.clamped,
                cell.uncertain,
            )
        )
    return tuple(found)


def network_from_tables(policy: Policy, tables: Sequence[ReleasedTable]) -> NetworkView | None:
    """The network section from the released network reports: the first in the catalogue, latest window."""
    for report in policy.reports:
        table = next((t for t in tables if t.report_id == report.report_id and t.cells), None)
        if report.kind is not ReportKind.NETWORK or table is None:
            continue
        window = max(cell.window for cell in table.cells)
        definition = METRICS[report.metrics[0]]
        unit = "meeting hours per week" if definition.unit is Unit.MINUTES else "messages per week"
        return network_view(edges_of(table, window), level=report.level.value, unit=unit, span=window)
    return None

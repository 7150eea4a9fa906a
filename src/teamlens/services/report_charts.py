"""The report's charts as geometry for inline SVG: trends, comparisons (and the network's heatmap).

A **trend** is one panel per group (or one wide panel for the organisation's headline), a line
with its 95% band; a **comparison** is one row per group, a dot with its 95% error bar, over the
organisation's figure as a shaded band. This module only computes geometry (coordinates in each
chart's own pixel space); the markup is written by ``templates/_report_parts.html``, which
escapes every name. Only figures worth
reading are drawn (shown and not too uncertain): a window without one breaks the line, a lone
figure is drawn as a dot with its interval, and a group with no figure worth reading gets no
panel at all, so no panel is ever empty. All panels of a chart share one vertical scale, from 0,
so that groups can be compared at a glance; a comparison's scale starts at 0 too, and its rows
come in the order given (alphabetical: groups are never ranked).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from teamlens.services.report_cells import CellText, number

#: One panel's size in pixels, and its plot area inside it.
WIDTH, HEIGHT = 176, 120
_LEFT, _RIGHT, _TOP, _BOTTOM = 32, WIDTH - 6, 24, HEIGHT - 18
#: Longest group name written in a panel's heading (the full name is in its accessible label).
_TITLE_CHARS = 25


@dataclass(frozen=True)
class Dot:
    """One figure: its value at (x, y) and its 95% interval from ``y_low`` up to ``y_high``."""

    x: float
    y: float
    y_low: float
    y_high: float


@dataclass(frozen=True)
class Run:
    """Consecutive windows with a figure each: ``line`` and ``band`` are SVG ``points`` lists.

    A run of one window has no line or band: its dot is drawn with its interval as a bar.
    """

    dots: tuple[Dot, ...]
    line: str
    band: str


@dataclass(frozen=True)
class Panel:
    """One group's panel: ``heading`` as written, ``label`` (full name and what is drawn) for readers."""

    heading: str
    label: str
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Chart:
    """Panels sharing one scale: ``y_ticks`` and ``x_ticks`` are (pixel, text) pairs."""

    panels: tuple[Panel, ...]
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = _LEFT
    right: int = _RIGHT
    top: int = _TOP
    bottom: int = _BOTTOM


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 4, 5, 6, 8 or 10 × 10ⁿ at or above ``value`` (1 for nothing)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 4.0, 5.0, 6.0, 8.0, 10.0):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10.0 * power


def trend_chart(
    window_labels: Sequence[str],
    rows: Sequence[tuple[str, Sequence[CellText]]],
    what: str,
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart | None:
    """Panels for the groups in ``rows`` (name, one cell per window) with a figure worth reading.

    ``what`` says what is drawn ("emails sent per person per week"). None when no group has
    one, or when there are fewer than two windows (a single window is no trend: the table says it).
    """
    drawn = [(group, cells) for group, cells in rows if any(cell.worth_reading for cell in cells)]
    if len(window_labels) < 2 or not drawn:
        return None
    top = nice_ceiling(max(cell.upper or 0.0 for _, cells in drawn for cell in cells if cell.worth_reading))
    right, bottom = width - (WIDTH - _RIGHT), height - (HEIGHT - _BOTTOM)
    step = (right - _LEFT) / len(window_labels)

    def x_of(index: int) -> float:
        return round(_LEFT + (index + 0.5) * step, 1)

    def y_of(value: float) -> float:
        return round(bottom - (bottom - _TOP) * min(max(value / top, 0.0), 1.0), 1)

    panels = []
    span = f"{window_labels[0]} to {window_labels[-1]}"
    for group, cells in drawn:
        runs: list[Run] = []
        current: list[Dot] = []
        for index, cell in enumerate([*cells, None]):
            if cell is not None and cell.number is not None:
                low, high = cell.lower or 0.0, cell.upper or 0.0
                current.append(Dot(x_of(index), y_of(cell.number), y_of(low), y_of(high)))
            elif current:
                runs.append(_run(current))
                current = []
        heading = group if len(group) <= _TITLE_CHARS else group[: _TITLE_CHARS - 1] + "…"
        label = f"{group}: {what}, {span}, with 95% intervals"
        panels.append(Panel(heading, label, tuple(runs)))
    decimals = next(d for d in range(6) if abs(round(top / 2, d) - top / 2) < 1e-9 * top or d == 5)
    y_ticks = tuple((y_of(value), number(value, decimals)) for value in (0.0, top / 2, top))
    every = max(1, math.ceil(len(window_labels) / max(6, (width - _LEFT) // 48)))
    x_ticks = tuple((x_of(index), label) for index, label in enumerate(window_labels) if index % every == 0)
    return Chart(tuple(panels), y_ticks, x_ticks, width, height, right=right, bottom=bottom)


def _run(dots: list[Dot]) -> Run:
    if len(dots) == 1:
        return Run(tuple(dots), "", "")
    line = " ".join(f"{dot.x},{dot.y}" for dot in dots)
    upper = [f"{dot.x},{dot.y_high}" for dot in dots]
    lower = [f"{dot.x},{dot.y_low}" for dot in reversed(dots)]
    return Run(tuple(dots), line, " ".join(upper + lower))


#: A comparison chart's geometry: the name column, the plot, one row per group.
_NAMES, _PLOT_RIGHT, _ROW, _AXIS = 170, 500, 22, 30
COMPARISON_WIDTH = _PLOT_RIGHT + 64


@dataclass(frozen=True)
class ComparedDot:
    """One group's row: its name (``heading``), the figure at ``x`` and its interval ``x_low``–``x_high``."""

    heading: str
    label: str
    y: float
    x: float
    x_low: float
    x_high: float
    differs: bool


@dataclass(frozen=True)
class ComparisonChart:
    """Groups as dots with error bars on one horizontal scale, and the organisation's band behind them.

    ``reference`` is (x of the organisation's figure, x_low, x_high) or None when there is none
    to compare with; ``x_ticks`` are (pixel, text) pairs along the bottom.
    """

    rows: tuple[ComparedDot, ...]
    reference: tuple[float, float, float] | None
    x_ticks: tuple[tuple[float, str], ...]
    height: int
    width: int = COMPARISON_WIDTH
    left: int = _NAMES
    right: int = _PLOT_RIGHT
    top: int = 8


def comparison_chart(
    rows: Sequence[tuple[str, CellText, bool]], reference: CellText | None
) -> ComparisonChart | None:
    """Dots with 95% error bars for ``rows`` (name, figure, differs), in the order given.

    Only figures worth reading are drawn; None when there is none (no empty chart is drawn).
    """
    drawn = [(name, text, differs) for name, text, differs in rows if text.number is not None]
    if not drawn:
        return None
    uppers = [text.upper or 0.0 for _, text, _ in drawn]
    if reference is not None and reference.upper is not None:
        uppers.append(reference.upper)
    top = nice_ceiling(max(uppers))

    def x_of(value: float | None) -> float:
        share = min(max((value or 0.0) / top, 0.0), 1.0)
        return round(_NAMES + (_PLOT_RIGHT - _NAMES) * share, 1)

    dots = []
    for index, (name, text, differs) in enumerate(drawn):
        heading = name if len(name) <= _TITLE_CHARS else name[: _TITLE_CHARS - 1] + "…"
        said = f"{name}: {text.plain()}" + (", differs from the organisation" if differs else "")
        y = 8 + _ROW * index + _ROW / 2
        dots.append(
            ComparedDot(heading, said, y, x_of(text.number), x_of(text.lower), x_of(text.upper), differs)
        )
    band = None
    if reference is not None and reference.number is not None:
        band = (x_of(reference.number), x_of(reference.lower), x_of(reference.upper))
    decimals = next(d for d in range(6) if abs(round(top / 4, d) - top / 4) < 1e-9 * top or d == 5)
    ticks = tuple((x_of(top * step / 4), number(top * step / 4, decimals)) for step in range(5))
    return ComparisonChart(tuple(dots), band, ticks, 8 + _ROW * len(dots) + _AXIS)


#: A heatmap's geometry: the name column, the rotated names along the top, one square per edge.
_HEAT_NAMES, _HEAT_TOP, _HEAT_CHARS = 160, 120, 20


@dataclass(frozen=True)
class HeatCell:
    """One edge's square at (x, y): ``shade`` from 0 to 1 (0: nothing worth reading is drawn)."""

    x: float
    y: float
    shade: float
    label: str


@dataclass(frozen=True)
class Heatmap:
    """Groups down (from) and across (to); ``names`` are (x or y, text) pairs for each axis."""

    cells: tuple[HeatCell, ...]
    rows: tuple[tuple[float, str], ...]
    columns: tuple[tuple[float, str], ...]
    size: float
    width: float
    height: float
    left: int = _HEAT_NAMES
    top: int = _HEAT_TOP


def heatmap(groups: Sequence[str], cells: Sequence[tuple[str, str, float | None, str]]) -> Heatmap | None:
    """A square per (from, to, value or None, label) of ``groups`` × ``groups``; None when nothing is drawn.

    A None value (too uncertain, or at 0) leaves its square unshaded; shades are relative to the
    largest value drawn.
    """
    values = [value for _, _, value, _ in cells if value is not None and value > 0]
    if not groups or not values:
        return None
    top = max(values)
    size = 22.0 if len(groups) <= 16 else max(14.0, round(420 / len(groups), 1))
    index = {group: position for position, group in enumerate(groups)}

    def short(name: str) -> str:
        return name if len(name) <= _HEAT_CHARS else name[: _HEAT_CHARS - 1] + "…"

    squares = tuple(
        HeatCell(
            round(_HEAT_NAMES + index[target] * size, 1),
            round(_HEAT_TOP + index[source] * size, 1),
            round(0.12 + 0.88 * value / top, 3) if value is not None and value > 0 else 0.0,
            label,
        )
        for source, target, value, label in cells
        if source in index and target in index
    )
    rows = tuple((round(_HEAT_TOP + (n + 0.5) * size, 1), short(group)) for n, group in enumerate(groups))
    columns = tuple(
        (round(_HEAT_NAMES + (n + 0.5) * size, 1), short(group)) for n, group in enumerate(groups)
    )
    side = size * len(groups)
    return Heatmap(squares, rows, columns, size, _HEAT_NAMES + side + 70, _HEAT_TOP + side + 8)

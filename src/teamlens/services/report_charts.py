"""Trend charts for the report: one small panel per group, a line with its 95% band, as inline SVG.

This module only computes geometry (coordinates in each panel's own pixel space); the markup is
written by ``templates/_report_chart.html``, which escapes every name. Only figures worth
reading are drawn (shown and not too uncertain): a window without one breaks the line, a lone
figure is drawn as a dot with its interval, and a group with no figure worth reading gets no
panel at all, so no panel is ever empty. All panels of a chart share one vertical scale, from 0,
so that groups can be compared at a glance.
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
    window_labels: Sequence[str], rows: Sequence[tuple[str, Sequence[CellText]]], what: str
) -> Chart | None:
    """Panels for the groups in ``rows`` (name, one cell per window) with a figure worth reading.

    ``what`` says what is drawn ("emails sent per person per week"). None when no group has
    one, or when there are fewer than two windows (a single window is no trend: the table says it).
    """
    drawn = [(group, cells) for group, cells in rows if any(cell.worth_reading for cell in cells)]
    if len(window_labels) < 2 or not drawn:
        return None
    top = nice_ceiling(max(cell.upper or 0.0 for _, cells in drawn for cell in cells if cell.worth_reading))
    step = (_RIGHT - _LEFT) / len(window_labels)

    def x_of(index: int) -> float:
        return round(_LEFT + (index + 0.5) * step, 1)

    def y_of(value: float) -> float:
        return round(_BOTTOM - (_BOTTOM - _TOP) * min(max(value / top, 0.0), 1.0), 1)

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
    every = max(1, math.ceil(len(window_labels) / 6))
    x_ticks = tuple((x_of(index), label) for index, label in enumerate(window_labels) if index % every == 0)
    return Chart(tuple(panels), y_ticks, x_ticks)


def _run(dots: list[Dot]) -> Run:
    if len(dots) == 1:
        return Run(tuple(dots), "", "")
    line = " ".join(f"{dot.x},{dot.y}" for dot in dots)
    upper = [f"{dot.x},{dot.y_high}" for dot in dots]
    lower = [f"{dot.x},{dot.y_low}" for dot in reversed(dots)]
    return Run(tuple(dots), line, " ".join(upper + lower))

"""A release described before it runs: which report, which windows, which metrics.

A ``ReleaseSpec`` is checked against the approved policy without touching data or budget
(STYLE 13), and is canonical: two requests that mean the same release (windows in another
order, a metric named twice) build equal specs with equal keys, so the cache answers both
with the same numbers and the ledger charges once (attack A4).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from teamlens.domain import GroupLevel, Policy, ReleasedCell, ReleasedTable, ReportDef, Window
from teamlens.errors import ReleaseError


@dataclass(frozen=True)
class ReleaseSpec:
    """An immutable, canonical, policy-checked release request; build it with ``ReleaseSpec.build``."""

    report_id: str
    level: GroupLevel
    windows: tuple[Window, ...]
    metrics: tuple[str, ...]

    def __post_init__(self) -> None:
        # Canonical however it was built, so that equal requests share one key and one cache entry.
        object.__setattr__(self, "windows", tuple(sorted(set(self.windows))))
        object.__setattr__(self, "metrics", tuple(sorted(set(self.metrics))))

    @classmethod
    def build(
        cls,
        policy: Policy,
        report_id: str,
        windows: Sequence[str | Window],
        metrics: Sequence[str] | None = None,
    ) -> ReleaseSpec:
        """Check a release request against ``policy``'s catalogue and return its canonical spec.

        ``metrics=None`` means every metric of the report. Raises ``ReleaseError`` naming what
        the catalogue allows when the report, a window or a metric is not allowed.
        """
        report = report_of(policy, report_id)
        if isinstance(windows, str):
            # A bare string is a Sequence[str] too; treat it as one window, not as characters.
            windows = [windows]
        if not windows:
            raise ReleaseError(
                f"report '{report_id}': no window was named",
                _window_hint(policy, report),
            )
        parsed = tuple(_window(policy, report, window) for window in windows)
        return cls(report.report_id, report.level, parsed, _metrics(report, metrics))

    def table(
        self,
        policy: Policy,
        cells: Sequence[ReleasedCell],
        *,
        release_id: str,
        rho_charged: float,
        released_at: dt.datetime,
        **reading: Any,
    ) -> ReleasedTable:
        """This spec's released table under ``policy``; ``reading`` sets the optional fields
        (``published_by``, ``repeated``, ``mechanism``)."""
        return ReleasedTable(
            release_id=release_id,
            report_id=self.report_id,
            policy_id=policy.policy_id,
            policy_version=policy.version,
            level=self.level.value,
            windows=tuple(window.key for window in self.windows),
            metrics=self.metrics,
            cells=tuple(cells),
            rho_charged=float(rho_charged),
            min_group_size=policy.min_group_size,
            released_at=released_at,
            **reading,
        )

    @property
    def key(self) -> str:
        """The canonical text of this spec: semantically equal specs give equal keys."""
        return json.dumps(
            {
                "report": self.report_id,
                "level": self.level.value,
                "windows": [window.key for window in self.windows],
                "metrics": list(self.metrics),
            },
            separators=(",", ":"),
            sort_keys=True,
            ensure_ascii=False,
        )


def report_of(policy: Policy, report_id: str) -> ReportDef:
    """Return the catalogue entry ``report_id``, or raise ``ReleaseError`` naming the known reports."""
    try:
        return policy.report(report_id)
    except KeyError:
        known = ", ".join(sorted(report.report_id for report in policy.reports)) or "none"
        raise ReleaseError(
            f"'{report_id}' is not a report in the approved catalogue of policy "
            f"'{policy.policy_id}' version {policy.version}",
            f"Use one of the catalogue's reports: {known}.",
        ) from None


def _window(policy: Policy, report: ReportDef, given: str | Window) -> Window:
    hint = _window_hint(policy, report)
    window = given if isinstance(given, Window) else _parse(given, report, hint)
    if window.cadence is not report.cadence:
        raise ReleaseError(
            f"window '{window.key}' is a {window.cadence.value} window but report "
            f"'{report.report_id}' is released per {report.cadence.value}",
            hint,
        )
    if window.start < policy.period_start or window.end > policy.period_end:
        raise ReleaseError(
            f"window '{window.key}' is not wholly inside the policy period "
            f"{policy.period_start.isoformat()} to {policy.period_end.isoformat()} (exclusive)",
            hint,
        )
    return window


def _parse(text: str, report: ReportDef, hint: str) -> Window:
    try:
        return Window(report.cadence, text)
    except ValueError:
        pass
    # Not a window of the report's cadence; parse it anyway so the error can say which it is.
    try:
        return Window.parse(text)
    except ValueError:
        raise ReleaseError(
            f"'{text}' is not a window key (expected 2026-W05, 2026-03 or 2026-Q1)", hint
        ) from None


def _window_hint(policy: Policy, report: ReportDef) -> str:
    valid = policy.windows(report.cadence)
    if not valid:
        return (
            f"The policy period holds no whole {report.cadence.value} window, so report "
            f"'{report.report_id}' cannot be released in this period."
        )
    return (
        f"Report '{report.report_id}' is released per {report.cadence.value}; valid windows run "
        f"from {valid[0].key} to {valid[-1].key} ({len(valid)} windows)."
    )


def _metrics(report: ReportDef, metrics: Sequence[str] | None) -> tuple[str, ...]:
    if metrics is None:
        return report.metrics
    if isinstance(metrics, str):
        metrics = [metrics]
    allowed = set(report.metrics)
    unknown = sorted(set(metrics) - allowed)
    hint = f"Report '{report.report_id}' has the metrics: {', '.join(sorted(allowed))}."
    if unknown:
        raise ReleaseError(
            f"report '{report.report_id}' does not include the metric(s) {', '.join(unknown)}", hint
        )
    if not metrics:
        raise ReleaseError(
            f"report '{report.report_id}': an empty metric list was given",
            hint + " Name at least one, or leave the list out to release them all.",
        )
    return tuple(metrics)

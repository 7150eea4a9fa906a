"""A Viva Insights person query is read as both the directory and the metrics in one ingestion.

The real sample (``vivainsights.load_pq_data()``: 300 people, 35 weeks) is written as the CSV Viva
exports and ingested once. In exact mode, each week's organisation mean of every metric the
file carries equals the mean computed with pandas straight from the file: the week's values in
whole minutes or counts (rounded half up, as the connector documents), summed over the people of
the week, divided by them. Without the fact connector in the policy, only the directory is read
and the outcome says so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from teamlens import services
from teamlens.domain.metrics import METRICS, Unit
from teamlens.sources.viva_insights import VIVA_METRICS

from ..support.exact import exact_mode
from .flow_support import approve_policy, make_workspace, policy_text

vivainsights = pytest.importorskip("vivainsights", reason="the Viva Insights sample ships with vivainsights")

WEEKS = ["2024-W14", "2024-W27", "2024-W48"]
_BOUNDS = {Unit.MINUTES: "168", Unit.COUNT: "2000"}


def _policy(frame: pd.DataFrame, sources: str) -> tuple[str, list[str]]:
    carried = [rule for rule in VIVA_METRICS if any(column in frame for column in rule.columns)]
    names = [rule.metric for rule in carried]
    text = policy_text(
        **{
            'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]': (
                f"sources = {sources}"
            ),
            "period_start = 2025-12-29": "period_start = 2024-04-01",
            "period_end = 2026-06-29": "period_end = 2024-12-02",
            'grouping_levels = ["organisation", "division", "department", "team"]': (
                'grouping_levels = ["organisation", "department", "team"]'
            ),
        }
    )
    start, end = text.index("[[metrics]]"), text.index("# Messages to or from these")
    metrics = "".join(
        f'[[metrics]]\nname = "{name}"\nper_week = {_BOUNDS[METRICS[name].unit]}\n\n' for name in names
    )
    listed = ", ".join(f'"{name}"' for name in names)
    report = (
        '[[reports]]\nid = "organisation-weekly"\ntitle = "Organisation"\nlevel = "organisation"\n'
        f'cadence = "week"\nmetrics = [{listed}]\nbudget_share = "0.9"\n\n'
    )
    return text[:start] + metrics + report + text[end:], names


def _expected(frame: pd.DataFrame, metric: str, monday: dt.date) -> float:
    """The week's mean per person from the file, in the metric's stored unit."""
    rule = next(rule for rule in VIVA_METRICS if rule.metric == metric)
    column = next(column for column in rule.columns if column in frame)
    week = frame[(pd.to_datetime(frame["MetricDate"]) + pd.Timedelta(days=1)).dt.date == monday]
    stored = (week[column].fillna(0) * (60 if rule.hours else 1) + 0.5).apply(int)
    return float(stored.sum()) / week["PersonId"].nunique()


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return vivainsights.load_pq_data()


def test_one_ingestion_reads_the_directory_and_the_metrics(tmp_path: Path, sample: pd.DataFrame) -> None:
    path = tmp_path / "person_query.csv"
    sample.to_csv(path, index=False)
    ws = make_workspace(tmp_path / "install")
    services.init(ws)
    text, names = _policy(sample, '["viva_insights_directory", "viva_insights_person_query"]')
    approve_policy(ws, text, tmp_path / "policy.toml")
    summary = services.ingest(ws, [path], actor="admin")
    assert [(o.source, o.status) for o in summary.files] == [
        ("viva_insights_directory", "ingested"),
        ("viva_insights_person_query", "ingested"),
    ]
    again = services.ingest(ws, [path], actor="admin")
    assert {o.status for o in again.files} == {"already ingested"}
    with exact_mode():
        table = services.release(ws, "organisation-weekly", WEEKS, actor="analyst")
    released = {(c.window, c.metric): c for c in table.cells if c.group == "Organisation"}
    assert len(names) >= 8
    for window in WEEKS:
        year, week = window.split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
        for name in names:
            cell = released[(window, name)]
            assert cell.person_weeks == sample["PersonId"].nunique()
            want = _expected(sample, name, monday) / METRICS[name].display_divisor
            assert cell.value == pytest.approx(want, rel=1e-12, abs=1e-9), (window, name)


def test_without_the_fact_connector_the_outcome_says_the_metrics_were_not_read(
    tmp_path: Path, sample: pd.DataFrame
) -> None:
    path = tmp_path / "person_query.csv"
    sample.head(700).to_csv(path, index=False)
    ws = make_workspace(tmp_path / "install")
    services.init(ws)
    approve_policy(ws, _policy(sample, '["viva_insights_directory"]')[0], tmp_path / "policy.toml")
    summary = services.ingest(ws, [path], actor="admin")
    [outcome] = summary.files
    assert outcome.source == "viva_insights_directory"
    assert any("viva_insights_person_query" in note and "sources" in note for note in outcome.notes)

"""Datasets for the accuracy benchmark: real data nobody here tuned to, and the demo organisation.

Each dataset is a fact store (person-week facts and a directory, as ingestion would leave them)
with a policy whose catalogue has the shape the issue measured: the same level released weekly
(20% of the budget), monthly (50%) and quarterly (30%).

- ``pq_data``: Microsoft's Viva Insights person-query sample from the ``vivainsights`` package
  (300 people in 7 organisations of 13–68, ISO 2024 weeks 14–48), four metrics with the bounds
  the issue's baseline used (32 h collaboration, 25 h meetings, 66 emails sent, 19 h after hours).
- ``email-eu-core``: SNAP's email-Eu-core-temporal (986 people, 332,334 emails), the first 52
  weeks, emails sent and received per person-week. Its ids do not match the labelled file's, so
  people are given departments at random with the labelled file's 42 department sizes (1–109):
  heavy-tailed activity and groups on both sides of the minimum size. Bounds sit at the 95th
  percentile of person-weeks, as a policy author without a private tool would set them.
- ``demo``: the synthetic organisation of ``make demo`` at the demo policy.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA, Policy
from teamlens.governance import GovernanceDB, parse_policy
from teamlens.store import FactStore

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EMAIL_EU = SHARED / "email-eu-core"


@dataclass(frozen=True)
class Dataset:
    """A store ready to aggregate, the policy it is released under, and what the truth needs."""

    name: str
    store: FactStore
    policy: Policy
    facts: pd.DataFrame  # person, week (Monday), metric, value (stored units)
    directory: pd.DataFrame  # person, department (static over the period)
    level: str


def _policy_text(
    *,
    policy_id: str,
    start: dt.date,
    end: dt.date,
    level: str,
    rho: str,
    bounds: dict[str, float],
    hours: set[str],
) -> str:
    metrics = "\n".join(
        f'[[metrics]]\nname = "{name}"\nper_week = {value:g}\n' for name, value in bounds.items()
    )
    names = ", ".join(f'"{name}"' for name in bounds)
    reports = "\n".join(
        f'[[reports]]\nid = "{cadence}ly"\ntitle = "{cadence}"\nlevel = "{level}"\ncadence = "{cadence}"\n'
        f'metrics = [{names}]\nbudget_share = "{share}"\n'
        for cadence, share in (("week", "0.2"), ("month", "0.5"), ("quarter", "0.3"))
    )
    del hours
    return f"""[policy]
id = "{policy_id}"
version = 1
title = "Accuracy benchmark"
purpose = "team_workload_and_meeting_load"
lawful_basis = "legitimate_interests"
controller = "Benchmark"
period_start = {start.isoformat()}
period_end = {end.isoformat()}
review_date = {(end + dt.timedelta(days=365)).isoformat()}
retention_days = 400
sources = ["hr_directory_csv"]
grouping_levels = ["organisation", "{level}"]
min_group_size = 10
recipients = ["analyst", "representative"]
not_for_individual_decisions = true

[privacy]
unit = "person-period"
rho = "{rho}"
delta = 1e-6

{metrics}
{reports}"""


def _store(facts: pd.DataFrame, directory: pd.DataFrame, root: Path) -> FactStore:
    store = FactStore(root)
    table = pa.table(
        {
            "person": facts["person"].astype(str).tolist(),
            "day": pa.array(facts["week"].tolist(), pa.date32()),
            "days": pa.array([7] * len(facts), pa.int8()),
            "metric": facts["metric"].tolist(),
            "value": pa.array(facts["value"].astype("int64").tolist(), pa.int64()),
            "source": ["bench"] * len(facts),
        },
        schema=FACT_SCHEMA,
    )
    rows = len(directory)
    people = pa.table(
        {
            "person": directory["person"].astype(str).tolist(),
            "valid_from": pa.array([dt.date(2000, 1, 3)] * rows, pa.date32()),
            "valid_to": pa.array([None] * rows, pa.date32()),
            "team": pa.array([None] * rows, pa.string()),
            "department": directory["department"].astype(str).tolist(),
            "division": pa.array([None] * rows, pa.string()),
            "location": pa.array([None] * rows, pa.string()),
            "manager": pa.array([None] * rows, pa.string()),
            "time_zone": pa.array([None] * rows, pa.string()),
            "work_start": pa.array([None] * rows, pa.string()),
            "work_end": pa.array([None] * rows, pa.string()),
        },
        schema=DIRECTORY_SCHEMA,
    )
    store.commit(content_hash="bench", source="bench", label="bench", facts=table, directory=people)
    return store


def pq_data(rho: str = "0.5") -> Dataset:
    """The Viva Insights sample, as the issue measured it."""
    import vivainsights

    frame = vivainsights.load_pq_data()
    columns = {
        "Collaboration_hours": ("collaboration_minutes", 60),
        "Meeting_hours": ("meeting_minutes", 60),
        "Emails_sent": ("emails_sent", 1),
        "After_hours_collaboration_hours": ("after_hours_minutes", 60),
    }
    # Viva weeks start on Sunday; each becomes the ISO week starting the next day (as the connector does).
    weeks = pd.to_datetime(frame["MetricDate"]).dt.date + dt.timedelta(days=1)
    parts = []
    for column, (metric, factor) in columns.items():
        values = (frame[column].astype(float) * factor + 0.5).astype("int64")
        parts.append(
            pd.DataFrame({"person": frame["PersonId"], "week": weeks, "metric": metric, "value": values})
        )
    facts = pd.concat(parts, ignore_index=True)
    facts = facts[facts["value"] > 0]
    directory = (
        frame[["PersonId", "Organization"]]
        .drop_duplicates()
        .rename(columns={"PersonId": "person", "Organization": "department"})
    )
    text = _policy_text(
        policy_id="pq-data",
        start=dt.date(2024, 4, 1),
        end=dt.date(2024, 12, 2),
        level="department",
        rho=rho,
        bounds={
            "collaboration_minutes": 32,
            "meeting_minutes": 25,
            "emails_sent": 66,
            "after_hours_minutes": 19,
        },
        hours={"collaboration_minutes", "meeting_minutes", "after_hours_minutes"},
    )
    policy = parse_policy(text, "pq_data").policy
    root = Path(tempfile.mkdtemp(prefix="bench-accuracy-pq-"))
    return Dataset(
        "pq_data", _store(facts, directory, root / "facts"), policy, facts, directory, "department"
    )


def email_eu_core(rho: str = "0.5", weeks: int = 52) -> Dataset | None:
    """SNAP email-Eu-core-temporal, departments assigned at random with the labelled sizes."""
    temporal = EMAIL_EU / "email-Eu-core-temporal.txt.gz"
    labels = EMAIL_EU / "email-Eu-core-department-labels.txt"
    if not temporal.exists() or not labels.exists():
        return None
    with gzip.open(temporal, "rt") as handle:
        events = pd.read_csv(handle, sep=" ", names=["src", "dst", "t"])
    start = dt.date(2024, 1, 1)
    events["week"] = events["t"] // (7 * 86400)
    events = events[events["week"] < weeks]
    mondays = {index: start + dt.timedelta(weeks=index) for index in range(weeks)}
    sent = (
        events.groupby(["src", "week"]).size().rename("value").reset_index().rename(columns={"src": "person"})
    )
    received = (
        events.groupby(["dst", "week"]).size().rename("value").reset_index().rename(columns={"dst": "person"})
    )
    sent["metric"], received["metric"] = "emails_sent", "emails_received"
    facts = pd.concat([sent, received], ignore_index=True)
    facts["week"] = facts["week"].map(mondays)
    people = sorted(set(events["src"]) | set(events["dst"]))
    departments = [line.split()[1] for line in labels.read_text().splitlines() if line.strip()]
    random.Random(2007).shuffle(departments)
    directory = pd.DataFrame(
        {"person": people, "department": [f"dept-{d}" for d in departments[: len(people)]]}
    )
    grid = pd.MultiIndex.from_product([people, list(mondays.values())], names=["person", "week"])
    bounds = {}
    for metric in ("emails_sent", "emails_received"):
        observed = facts[facts["metric"] == metric].set_index(["person", "week"])["value"]
        full = observed.reindex(grid, fill_value=0)
        bounds[metric] = float(max(1, np.ceil(np.percentile(full, 95))))
    text = _policy_text(
        policy_id="email-eu-core",
        start=start,
        end=start + dt.timedelta(weeks=weeks),
        level="department",
        rho=rho,
        bounds=bounds,
        hours=set(),
    )
    policy = parse_policy(text, "email-eu-core").policy
    facts["person"] = facts["person"].astype(str)
    directory["person"] = directory["person"].astype(str)
    root = Path(tempfile.mkdtemp(prefix="bench-accuracy-eu-"))
    return Dataset(
        "email-eu-core", _store(facts, directory, root / "facts"), policy, facts, directory, "department"
    )


def demo(people: int = 2000) -> Dataset:
    """The synthetic demo organisation at the demo policy (built by the demo's own flow).

    Its facts and directory are read back from the store's own files (pseudonymised), the
    directory with its history: the demo has joiners, leavers and movers.
    """
    import pyarrow.parquet as pq

    from teamlens.services.demo import run_demo

    out = Path(tempfile.mkdtemp(prefix="bench-accuracy-demo-"))
    result = run_demo(out, people=people)
    root = result.settings.data_dir / "facts"
    store = FactStore(root)
    manifest = json.loads((root / "manifest.json").read_text())
    facts = pq.read_table([root / path for path in manifest["months"].values()]).to_pandas()
    days = pd.to_datetime(facts["day"]).dt.date
    facts["week"] = days.map(lambda day: day - dt.timedelta(days=day.weekday()))
    facts = facts.groupby(["person", "week", "metric"], as_index=False)["value"].sum()
    directory = pq.read_table(root / manifest["directory"]).to_pandas()
    directory = directory[["person", "valid_from", "valid_to", "team", "department"]]
    directory["valid_from"] = pd.to_datetime(directory["valid_from"]).dt.date
    directory["valid_to"] = pd.to_datetime(directory["valid_to"]).dt.date
    with GovernanceDB(f"sqlite:///{result.settings.data_dir / 'governance.sqlite'}") as db:
        policy = db.require_active_policy("benchmark").policy
    return Dataset("demo (synthetic)", store, policy, facts, directory, "team")

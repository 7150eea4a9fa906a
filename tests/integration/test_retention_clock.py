"""Retention on one clock (R15), checked by reading the store's Parquet files and the database file.

An organisation is ingested under a 35-day retention and January and the first quarter are
released; ``retention run`` then runs at three clock points. After each, the files themselves
(every Parquet file under the store's folder, the SQLite file through ``sqlite3``, its raw bytes)
must hold nothing older than the policy allows. Teeth: a run that skips one class is caught.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from teamlens import services
from teamlens.domain import Cadence, Policy, Window
from teamlens.services import retention

from ..support.orgs import org_fixture
from .flow_support import Org, approve_policy, build_org, policy_text

POLICY = "collaboration-2026h1"
PERIOD_START = "2025-12-29"
#: January (5 ISO weeks) is released monthly and quarterly; February only quarterly.
JANUARY = (dt.date(2025, 12, 29), dt.date(2026, 2, 2))
#: The clock points: inside the retention, past it, and past the period's released retention.
EARLY, LATE, AFTER_PERIOD = dt.date(2026, 2, 20), dt.date(2026, 4, 15), dt.date(2027, 7, 1)
#: The tables holding a period's released aggregates, kept measurements and ledger.
PERIOD_TABLES = ("releases", "ledger", "report_cells", "measured_blocks", "measurements")


def released_org(root: Path) -> Org:
    """120 workers over 8 weeks under a 35-day retention; January and the first quarter released."""
    built = build_org(root, people=120, weeks=8, approve=False)
    text = policy_text(**{"retention_days = 400 ": "retention_days = 35  "})
    approve_policy(built.ws, text, built.policy_file)
    services.ingest(built.ws, [built.exports], actor="admin")
    services.release(built.ws, "department-monthly", ["2026-01"], actor="analyst")
    services.release(built.ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    return built


org = org_fixture(released_org)


def database(org: Org) -> Path:
    return org.ws.settings.data_dir / "governance.sqlite"


def query(org: Org, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows of ``sql`` read from the governance database itself (SQLite's file, or PostgreSQL)."""
    engine = sa.create_engine(org.ws.settings.governance_url)
    try:
        with engine.connect() as con:
            return [tuple(row) for row in con.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def released_weeks(org: Org, policy: Policy) -> set[dt.date]:
    """Weeks whose month and quarter windows are both published whole, read from the database itself."""
    cells = set(query(org, "SELECT report_id, window_key, metric FROM report_cells"))
    weeks = set()
    for week in {w for window in policy.windows(Cadence.WEEK) for w in window.weeks}:
        windows = {report.report_id: Window.containing(week, report.cadence).key for report in policy.reports}
        if all(
            (report.report_id, windows[report.report_id], name) in cells
            for report in policy.reports
            for name in report.metrics
        ):
            weeks.add(week)
    return weeks


def leftovers(org: Org, today: dt.date) -> list[str]:
    """Everything the files still hold that the policy does not allow on ``today`` (empty: compliant)."""
    policy = org.ws.governance.stored_policy(POLICY).policy
    cutoff = today - dt.timedelta(days=policy.retention_days)
    done = released_weeks(org, policy)
    found = []
    for path in sorted(org.ws.settings.facts_dir.rglob("*.parquet")):
        table = pq.read_table(path)
        if "metric" in table.column_names:
            for day in table.column("day").to_pylist():
                if day < cutoff:
                    found.append(f"{path.name}: a fact of {day}, before the cut-off {cutoff}")
                elif day - dt.timedelta(days=day.weekday()) in done:
                    found.append(f"{path.name}: a fact of {day}, whose windows are all released")
        else:
            ended = [end for end in table.column("valid_to").to_pylist() if end is not None and end <= cutoff]
            found += [f"{path.name}: a directory row that ended {end}" for end in ended]
    due = policy.period_end + dt.timedelta(days=max(policy.released_retention_days, policy.retention_days))
    if today >= due:
        for table in PERIOD_TABLES:
            sql = f"SELECT count(*) FROM {table} WHERE policy_id = :policy AND period_start = :start"
            ((count,),) = query(org, sql, policy=POLICY, start=dt.date.fromisoformat(PERIOD_START))
            if count:
                found.append(f"{table}: {count} rows of a period whose retention ended {due}")
    return found


def test_after_each_clock_point_nothing_older_than_the_policy_allows_remains(org: Org) -> None:
    policy = org.ws.governance.stored_policy(POLICY).policy
    assert leftovers(org, EARLY), "the fixture must hold facts the first run has to delete"
    assert {week for week in released_weeks(org, policy)} == {
        JANUARY[0] + dt.timedelta(weeks=n) for n in range(5)
    }
    spec_keys = [row.spec_key for row in org.ws.governance.releases()]  # only in the releases table

    early = services.run_retention(org.ws, actor="scheduler", today=EARLY)
    assert leftovers(org, EARLY) == []
    assert early.facts_released > 0 and early.periods == ()
    assert early.backups_clear_by == EARLY + dt.timedelta(days=35)
    assert services.run_retention(org.ws, actor="scheduler", today=EARLY).deleted == 0  # idempotent

    late = services.run_retention(org.ws, actor="scheduler", today=LATE)
    assert leftovers(org, LATE) == []
    assert late.facts_past_retention > 0 and org.ws.store.stats().fact_rows == 0
    with sqlite3.connect(database(org)) as con:  # the period's aggregates outlive its facts
        assert con.execute("SELECT count(*) FROM report_cells").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM measurements").fetchone()[0] > 0

    archived_cells = org.ws.governance.period_archive(POLICY, dt.date(2025, 12, 29))["report_cells"]
    after = services.run_retention(org.ws, actor="scheduler", today=AFTER_PERIOD)
    assert leftovers(org, AFTER_PERIOD) == []
    (period,) = after.periods
    assert period.counts["releases"] == 2 and period.counts["report_cells"] == len(archived_cells) > 0
    assert period.archive is not None
    assert json.loads(period.archive.read_text(encoding="utf-8"))["report_cells"] == archived_cells
    raw = database(org).read_bytes()  # deleted rows are zeroed, not left in free pages
    assert not [key for key in spec_keys if key.encode("utf-8") in raw]
    assert org.ws.governance.verify_audit().ok
    org.ws.governance.check_books(POLICY, dt.date(2025, 12, 29))  # the disposal is on record: no mismatch
    entry = org.ws.governance.audit_entries(limit=2)[1]
    assert entry.action == "retention.released"
    assert entry.details["releases_deleted"] == 2 and "archive_sha256" in entry.details


def _no_released_hand(monkeypatch: pytest.MonkeyPatch, org: Org) -> None:
    monkeypatch.setattr(retention, "released_weeks", lambda ws, policy: [])


def _no_age_hand(monkeypatch: pytest.MonkeyPatch, org: Org) -> None:
    expire = org.ws.store.expire
    monkeypatch.setattr(org.ws.store, "expire", lambda cutoff, released: expire(dt.date.min, released))


def _no_disposal(monkeypatch: pytest.MonkeyPatch, org: Org) -> None:
    monkeypatch.setattr(retention, "_aggregates_due", lambda policy: dt.date.max)


@pytest.mark.parametrize(
    ("skip", "today"),
    [(_no_released_hand, EARLY), (_no_age_hand, LATE), (_no_disposal, AFTER_PERIOD)],
    ids=["released-windows", "age", "released-aggregates"],
)
def test_a_retention_run_that_skips_a_class_is_caught(
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
    skip: Callable[[pytest.MonkeyPatch, Org], None],
    today: dt.date,
) -> None:
    skip(monkeypatch, org)
    services.run_retention(org.ws, actor="scheduler", today=today)
    assert leftovers(org, today)

"""Retention (R15): after the job, no fact older than the policy's retention exists; the count is logged."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from freezegun import freeze_time

from teamlens import services
from teamlens.cli import main

from ..support.orgs import org_fixture
from .flow_support import Org, approve_policy, build_org, policy_text, signer

TODAY = dt.date(2026, 2, 20)


def fact_days(org: Org) -> list[dt.date]:
    """Every fact's day, read straight from the files the store's manifest names."""
    root = org.ws.settings.facts_dir
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    days: list[dt.date] = []
    for path in manifest["months"].values():
        days += pq.read_table(root / path, columns=["day"]).column("day").to_pylist()
    return days


def short_retention(root: Path) -> Org:
    """120 workers over 8 weeks, ingested under a policy that keeps facts for 35 days."""
    built = build_org(root, people=120, weeks=8, approve=False)
    approve_policy(
        built.ws, policy_text(**{"retention_days = 400 ": "retention_days = 35  "}), built.policy_file
    )
    services.ingest(built.ws, [built.exports], actor="admin")
    return built


org = org_fixture(short_retention)


def test_no_fact_older_than_the_retention_survives_and_the_deletion_is_logged(org: Org) -> None:
    before = fact_days(org)
    cutoff = TODAY - dt.timedelta(days=35)
    old = sum(1 for day in before if day < cutoff)
    assert 0 < old < len(before), "the fixture must straddle the cut-off"
    result = services.run_retention(org.ws, actor="scheduler", today=TODAY)
    assert (result.cutoff, result.deleted, result.retention_days) == (cutoff, old, 35)
    after = fact_days(org)
    assert min(after) >= cutoff
    assert len(after) == len(before) - old
    entry = org.ws.governance.audit_entries(limit=1)[0]
    assert entry.action == "retention.run"
    assert entry.details == {
        "policy_id": "collaboration-2026h1",
        "version": 1,
        "retention_days": 35,
        "cutoff": cutoff.isoformat(),
        "facts_deleted": old,
        "facts_past_retention": old,
        "facts_of_released_windows": 0,
        "directory_rows_deleted": result.directory_rows,  # placements that ended before the cut-off
        "periods_disposed": 0,
        "backups_clear_by": (TODAY + dt.timedelta(days=35)).isoformat(),
    }
    assert services.run_retention(org.ws, actor="scheduler", today=TODAY).deleted == 0


def test_retention_still_runs_after_the_policy_is_suspended(org: Org) -> None:
    services.suspend(org.ws, "collaboration-2026h1", by=signer(org.ws, "representative"), actor="rep")
    result = services.run_retention(org.ws, actor="scheduler", today=dt.date(2026, 6, 1))
    assert result.deleted > 0
    assert fact_days(org) == []


def test_the_retention_command(
    org: Org, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(org.ws.settings.data_dir))
    monkeypatch.setenv("COLUMNS", "200")
    main(["retention", "run"])
    assert "Deleted" in capsys.readouterr().out
    assert fact_days(org) == []  # today is long after this synthetic organisation's weeks


def test_the_scheduler_tick_lapses_the_policy_runs_retention_and_is_idempotent(org: Org) -> None:
    review = org.ws.governance.require_active_policy("test").policy.review_date
    with freeze_time(f"{review + dt.timedelta(days=1)} 08:00"):
        first = services.tick(org.ws)
        assert first.lapsed is not None and first.active is None
        assert (first.lapsed.policy_id, first.lapsed.state.value) == ("collaboration-2026h1", "lapsed")
        assert first.retention.deleted > 0
        second = services.tick(org.ws)
        assert (second.lapsed, second.active, second.retention.deleted) == (None, None, 0)
    assert fact_days(org) == []
    for audience in ("employer", "representative"):
        assert [n.kind for n in org.ws.governance.notifications(audience)].count("policy.lapsed") == 1


def test_the_scheduler_command(
    org: Org, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(org.ws.settings.data_dir))
    monkeypatch.setenv("COLUMNS", "200")
    main(["scheduler", "tick"])
    out = capsys.readouterr().out
    assert "Scheduler tick" in out and "retention deleted" in out
    main(["scheduler", "tick"])
    assert "retention deleted 0 facts" in capsys.readouterr().out

"""A release asked for again names the release that published its cells, and charges nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ..integration.flow_support import Org, run_cli
from .conftest import next_day


def test_a_repeated_release_names_the_original_release(
    cli_env: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    governance = cli_env.ws.governance
    original = next(r.release_id for r in governance.releases(None) if r.report_id == "department-monthly")
    spent = governance.spent(*_period(cli_env))

    code, out = run_cli(capsys, "release", "department-monthly", "-w", "2026-01", "-w", "2026-02")
    assert code == 0, out
    assert f"already released (release {original})" in out
    assert "cached" not in out and "charged" not in out

    code, out = run_cli(capsys, "release", "department-monthly", "-w", "2026-01", "--json")
    assert code == 0, out
    table = json.loads(out)
    assert table["release_id"] == original
    assert table["published_by"] == [original] and table["repeated"] is True
    assert table["rho_charged"] == 0
    assert governance.spent(*_period(cli_env)) == spent
    assert [r.release_id for r in governance.releases(None)].count(original) == 1


def test_a_repeated_release_shows_when_it_was_released_not_when_it_was_asked(
    cli_env: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    governance = cli_env.ws.governance
    original = next(r for r in governance.releases(None) if r.report_id == "department-monthly")
    with next_day(3):
        code, out = run_cli(capsys, "release", "department-monthly", "-w", "2026-01", "--json")
        asked = dt.datetime.now(dt.UTC)
    assert code == 0, out
    table = json.loads(out)
    assert table["repeated"] is True
    assert dt.datetime.fromisoformat(table["released_at"]) == original.released_at
    assert asked - original.released_at > dt.timedelta(days=2)  # teeth: the time asked is another day


def test_teeth_a_new_release_is_not_called_a_repeat(cli_env: Org, capsys: pytest.CaptureFixture[str]) -> None:
    """A window not released before is a new release with its own id, even when it costs nothing."""
    before = {r.release_id for r in cli_env.ws.governance.releases(None)}
    code, out = run_cli(capsys, "release", "department-monthly", "-w", "2026-03", "--json")
    assert code == 0, out
    table = json.loads(out)
    assert table["repeated"] is False
    assert table["release_id"] not in before
    assert table["published_by"] == [table["release_id"]]
    recorded = next(r for r in cli_env.ws.governance.releases(None) if r.release_id == table["release_id"])
    assert dt.datetime.fromisoformat(table["released_at"]) == recorded.released_at


def _period(org: Org) -> tuple[str, object]:
    policy = org.ws.governance.require_active_policy("test").policy
    return policy.policy_id, policy.period_start

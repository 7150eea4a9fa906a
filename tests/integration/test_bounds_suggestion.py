"""`teamlens policy suggest-bounds`: paid from bounds_share, audited, counted by the books, adoptable."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from teamlens import services
from teamlens.errors import ReleaseError
from teamlens.governance import parse_policy

from ..support.orgs import org_fixture
from .flow_support import Org, approve_policy, build_org, policy_text, run_cli


def ingested_unreleased(root: Path) -> Org:
    """120 workers over 6 weeks, ingested, nothing spent yet."""
    built = build_org(root, people=120, weeks=6)
    services.ingest(built.ws, [built.exports], actor="admin")
    return built


org = org_fixture(ingested_unreleased)


def test_a_suggestion_is_paid_from_bounds_share_audited_and_counted_by_the_books(org: Org) -> None:
    policy = org.ws.governance.require_active_policy("test").policy
    found = services.suggest_bounds(org.ws, actor="analyst")
    assert found.block == "2026-01"
    assert Fraction(found.rho).limit_denominator(10**9) == policy.rho.value * policy.design.bounds_share
    assert org.ws.governance.spent(policy.policy_id, policy.period_start).value == policy.rho.value / 20
    entry = org.ws.governance.audit_entries(limit=1)[0]
    assert entry.action == "bounds.record"
    assert set(entry.details["suggestions"]) == set(policy.metric_names)  # type: ignore[arg-type]
    for item in found.metrics:
        assert item.suggested > 0
        assert 0 <= item.clipped_suggested <= 1
    # The books agree with the audit log, so releases go on; the budget left is what it was less ρ/20.
    table = services.release(org.ws, "department-monthly", ["2026-01"], actor="analyst")
    assert table.rho_charged > 0
    with pytest.raises(ReleaseError, match="no budget left"):
        services.suggest_bounds(org.ws, actor="analyst")


def test_the_suggested_bounds_drop_into_a_policy_that_parses(org: Org) -> None:
    found = services.suggest_bounds(org.ws, actor="analyst")
    text = policy_text()
    start = text.index("[[metrics]]")
    end = text.index("# The closed report catalogue")
    adopted = parse_policy(text[:start] + found.toml() + "\n" + text[end:], "adopted").policy
    for item in found.metrics:
        bound = adopted.metric_bound(item.metric)
        assert bound.per_week / bound.definition.display_divisor == pytest.approx(item.suggested, rel=0.01)


def test_a_policy_without_bounds_share_refuses_and_says_how_to_allow_it(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=60, weeks=6, approve=False)
    text = re.sub(r'^bounds_share = "[^"]+"', 'bounds_share = "0"', policy_text(), flags=re.M)
    approve_policy(org.ws, text, tmp_path / "no-bounds.toml")
    services.ingest(org.ws, [org.exports], actor="admin")
    with pytest.raises(ReleaseError, match="sets no budget for suggesting bounds") as refused:
        services.suggest_bounds(org.ws, actor="analyst")
    assert "bounds_share" in refused.value.hint


def test_the_cli_prints_the_suggestion_and_its_json(org: Org, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_cli(
        capsys, "policy", "suggest-bounds", "--json", "--data-dir", str(org.ws.settings.data_dir)
    )
    assert code == 0, output
    data = json.loads(output)
    assert {item["metric"] for item in data["metrics"]} >= {"emails_sent", "meeting_minutes"}

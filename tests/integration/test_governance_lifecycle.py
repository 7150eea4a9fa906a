"""The policy lifecycle through the services: consultation, narrowing by one party, lapse (R2–R6)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from freezegun import freeze_time

from teamlens import services
from teamlens.errors import NoApprovedPolicy, PolicyError, PolicyLapsed
from teamlens.governance import PolicyState
from teamlens.privacy import expected_half_width

from ..support.orgs import org_fixture
from .flow_support import Org, build_org, policy_text, sign_off, signer

PID = "collaboration-2026h1"
ON = dt.date(2026, 2, 2)


def _propose(org: Org, text: str, name: str) -> None:
    path = org.policy_file.with_name(name)
    path.write_text(text, encoding="utf-8")
    info = services.propose(org.ws, path, actor="hr")
    sign_off(org.ws, info.policy_id, info.version)


def consulted_and_approved(root: Path) -> Org:
    """Version 1 consulted on (with views and a response), approved by both, and data ingested."""
    built = build_org(root, people=300, weeks=6, approve=False)
    _propose(built, policy_text(), "v1.toml")
    result = services.consult(built.ws, PID, 1, by=signer(built.ws, "employer"), actor="hr", today=ON)
    assert result.info.state is PolicyState.CONSULTATION
    # A first policy: no directory has been ingested yet, so the sizes are illustrative.
    assert result.figures.basis == "illustrative"
    services.comment(built.ws, PID, 1, text="Why meeting hours?", objection=True)
    services.comment(built.ws, PID, 1, text="Fine for departments.", author="Works council")
    with pytest.raises(NoApprovedPolicy):
        services.ingest(built.ws, [built.exports], actor="admin")
    with pytest.raises(PolicyError, match=r"2 view\(s\)"):
        services.approve(built.ws, PID, 1, by=signer(built.ws, "representative"), approver="Rep")
    services.respond(
        built.ws,
        PID,
        1,
        by=signer(built.ws, "employer"),
        author="HR director",
        text="Meeting load is the purpose; kept.",
    )
    services.approve(built.ws, PID, 1, by=signer(built.ws, "representative"), approver="Rep")
    assert (
        services.approve(built.ws, PID, 1, by=signer(built.ws, "employer"), approver="HR").state
        is PolicyState.ACTIVE
    )
    assert services.ingest(built.ws, [built.exports], actor="admin").rows > 0
    return built


org = org_fixture(consulted_and_approved)


def test_the_consultation_record_is_part_of_the_approved_version(org: Org) -> None:
    record = services.consultation(org.ws, PID, 1)
    assert [entry.kind.value for entry in record.entries] == ["published", "objection", "comment", "response"]
    assert json.loads(record.entries[0].text)["basis"] == "illustrative"
    assert record.closed
    [info] = [v for v in services.versions(org.ws, PID) if v.version == 1]
    assert {approval.record_sha256 for approval in info.approvals} == {record.sha256}


def test_the_representative_alone_raises_the_minimum_group_size(org: Org) -> None:
    _propose(
        org,
        policy_text(**{"version = 1 ": "version = 2 ", "min_group_size = 10 ": "min_group_size = 15 "}),
        "v2.toml",
    )
    info = services.approve(org.ws, PID, 2, by=signer(org.ws, "representative"), approver="Rep")
    assert (info.state, info.tightens_version) == (PolicyState.ACTIVE, 1)
    assert services.active(org.ws) is not None
    assert services.active(org.ws).policy.min_group_size == 15  # type: ignore[union-attr]


def test_a_widening_is_consulted_on_with_the_real_group_sizes(org: Org) -> None:
    _propose(org, policy_text(**{"version = 1 ": "version = 3 "}), "v3.toml")  # k back to 10: wider
    figures = services.consult(org.ws, PID, 3, by=signer(org.ws, "employer"), actor="hr", today=ON).figures
    assert figures.basis == "directory"
    policy = services.consultation(org.ws, PID, 3)
    assert policy.published_at is not None
    department = next(report for report in figures.reports if report.report_id == "department-monthly")
    team = next(report for report in figures.reports if report.report_id == "team-quarterly")
    for report in (department, team):
        assert report.groups, "every group of the level is listed"
        for group in report.shown:
            assert group.size is not None
            assert group.size % 5 == 0
            assert group.size >= 10
            assert len(group.half_widths) == len(report.metrics)
    assert team.suppressed > 0  # the synthetic organisation has teams under 10
    stored = org.ws.governance.stored_policy(PID, 3).policy
    first = department.shown[0]
    assert first.size is not None
    # The forecast is made at the group's exact size, shown rounded to the nearest 5 (±2 people).
    widest, narrowest = (
        expected_half_width(stored, "department-monthly", size, department.typical[0], department.metrics[0])
        for size in (first.size - 2, first.size + 2)
    )
    assert narrowest - 0.01 <= first.half_widths[0] <= widest + 0.01
    assert services.active(org.ws) is not None  # consultation on v3 does not stop v2


def test_passing_the_review_date_stops_ingest_and_release(tmp_path: Path) -> None:
    lapsing = build_org(tmp_path, people=60, weeks=2)
    with freeze_time("2027-07-06"):
        with pytest.raises(PolicyLapsed, match="lapsed when its review date"):
            services.ingest(lapsing.ws, [lapsing.exports], actor="admin")
        with pytest.raises(PolicyLapsed):
            services.release(lapsing.ws, "department-monthly", ["2026-01"], actor="analyst")
    assert [info.state for info in services.versions(lapsing.ws, PID)] == [PolicyState.LAPSED]

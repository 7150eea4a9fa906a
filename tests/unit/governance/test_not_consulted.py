"""R5: a version is approved only after a consultation, or the employer's recorded reasons for none."""

from __future__ import annotations

import pytest

from teamlens.errors import AccessDenied, PolicyError
from teamlens.governance import GovernanceDB, Party, PolicyState

from .helpers import activate, edit, sign, sign_off

PID = "collaboration-2026h1"
REASON = "The change only shortens retention; the works council agreed no consultation was needed."


def test_only_the_employer_records_not_consulting_and_only_on_a_draft(
    db: GovernanceDB, template: str
) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    with pytest.raises(AccessDenied, match=r"the representative may not sign .consultation\.not_consulted."):
        db.record_not_consulted(
            PID,
            1,
            sign(db, Party.REPRESENTATIVE, "consultation.not_consulted", PID, 1, text=REASON),
            "Rob",
            REASON,
        )
    with pytest.raises(PolicyError, match="Give the reasons"):
        db.record_not_consulted(
            PID, 1, sign(db, Party.EMPLOYER, "consultation.not_consulted", PID, 1, text="  "), "Emma", "  "
        )
    recorded = db.record_not_consulted(
        PID, 1, sign(db, Party.EMPLOYER, "consultation.not_consulted", PID, 1, text=REASON), "Emma", REASON
    )
    assert (recorded.reason, recorded.recorded_by) == (REASON, "Emma")
    assert (
        db.record_not_consulted(
            PID,
            1,
            sign(db, Party.EMPLOYER, "consultation.not_consulted", PID, 1, text=REASON),
            "Emma",
            REASON,
        )
        == recorded
    )  # no-op
    with pytest.raises(PolicyError, match="already recorded"):
        db.record_not_consulted(
            PID,
            1,
            sign(db, Party.EMPLOYER, "consultation.not_consulted", PID, 1, text="Other reasons."),
            "Emma",
            "Other reasons.",
        )
    assert db.consultation(PID, 1).not_consulted == recorded
    [entry] = [e for e in db.audit_entries() if e.action == "consultation.not_consulted"]
    assert "works council" not in str(entry.details)  # the reasons are in the record, not the log


def test_the_reasons_are_part_of_the_signed_record(db: GovernanceDB, template: str) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    before = db.consultation(PID, 1).sha256
    db.record_not_consulted(
        PID, 1, sign(db, Party.EMPLOYER, "consultation.not_consulted", PID, 1, text=REASON), "Emma", REASON
    )
    record = db.consultation(PID, 1)
    assert record.sha256 != before
    sign_off(db, PID, 1)
    db.approve(PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma")
    info = db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob")
    assert info.state is PolicyState.ACTIVE
    assert {a.record_sha256 for a in info.approvals} == {record.sha256}
    with pytest.raises(PolicyError, match=r"only be recorded on a draft|already recorded"):
        db.record_not_consulted(
            PID,
            1,
            sign(db, Party.EMPLOYER, "consultation.not_consulted", PID, 1, text="Changed afterwards."),
            "Emma",
            "Changed afterwards.",
        )


def test_a_consulted_version_cannot_also_claim_it_was_not(db: GovernanceDB, template: str) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    db.consult(PID, 1, sign(db, Party.EMPLOYER, "policy.consult", PID, 1), "hr:emma", "{}")
    with pytest.raises(PolicyError, match="only be recorded on a draft"):
        db.record_not_consulted(
            PID,
            1,
            sign(db, Party.EMPLOYER, "consultation.not_consulted", PID, 1, text=REASON),
            "Emma",
            REASON,
        )


def test_a_narrowing_needs_no_consultation(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    narrower = edit(
        edit(template, "version = 1 ", "version = 2 "), "min_group_size = 10", "min_group_size = 12"
    )
    db.propose(narrower, "policy.toml", "rep:rob")
    sign_off(db, PID, 2)
    assert (
        db.approve(PID, 2, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 2), "Rob", "rep:rob").state
        is PolicyState.ACTIVE
    )

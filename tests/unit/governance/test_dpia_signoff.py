"""R4(b)/(c): no version becomes approved or active without a DPIA sign-off; "high" risk blocks it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from teamlens.errors import PolicyError
from teamlens.governance import GovernanceDB, Party, PolicyState

from .helpers import DPIA_SHA256, edit, not_consulted, sign, sign_off

PID = "collaboration-2026h1"


def sign_dpia(db: GovernanceDB, **changes: object) -> None:
    fields: dict[str, object] = {
        "dpia_sha256": DPIA_SHA256,
        "measures_by": "Emma Employer",
        "residual_risk": "low",
        "dpo_advice": "Proceed.",
        "consultation_reviewed_by": "Dora DPO",
        "actor": "hr:emma",
    }
    fields.update(changes)
    db.sign_off_dpia(PID, 1, **fields)  # type: ignore[arg-type]


def test_both_approvals_without_a_sign_off_are_refused_naming_the_command(
    db: GovernanceDB, template: str
) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    not_consulted(db, PID, 1)
    db.approve(
        PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma"
    )  # the first signature changes no state that runs
    with pytest.raises(PolicyError) as refused:
        db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob")
    assert "teamlens docs signoff collaboration-2026h1 1" in str(refused.value.hint)
    assert db.active_policy() is None
    [info] = db.policy_versions(PID)
    assert info.state is PolicyState.PROPOSED
    assert info.missing_parties == (Party.REPRESENTATIVE,)  # the refused signature was not stored
    sign_off(db, PID, 1)
    assert (
        db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob").state
        is PolicyState.ACTIVE
    )


def test_high_residual_risk_blocks_activation_and_points_to_the_ico(db: GovernanceDB, template: str) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    not_consulted(db, PID, 1)
    sign_dpia(db, residual_risk="high")
    db.approve(PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma")
    with pytest.raises(PolicyError) as refused:
        db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob")
    assert "ICO" in str(refused.value.hint) and "Art 36" in str(refused.value.hint)
    assert db.active_policy() is None
    sign_dpia(db, residual_risk="medium")  # after prior consultation: signed again before approval
    assert (
        db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob").state
        is PolicyState.ACTIVE
    )
    with pytest.raises(PolicyError, match="can no longer change"):
        sign_dpia(db, residual_risk="low")


def test_a_narrowing_needs_its_own_sign_off(db: GovernanceDB, template: str) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    not_consulted(db, PID, 1)
    sign_off(db, PID, 1)
    db.approve(PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma")
    db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob")
    narrower = edit(
        edit(template, "version = 1 ", "version = 2 "), "min_group_size = 10", "min_group_size = 12"
    )
    db.propose(narrower, "policy.toml", "rep:rob")  # a narrowing: no consultation needed (R3)
    with pytest.raises(PolicyError, match="no DPIA sign-off"):
        db.approve(PID, 2, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 2), "Rob", "rep:rob")
    sign_off(db, PID, 2)
    assert (
        db.approve(PID, 2, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 2), "Rob", "rep:rob").state
        is PolicyState.ACTIVE
    )


def test_the_sign_off_is_stored_and_audited_without_its_texts(db: GovernanceDB, template: str) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    not_consulted(db, PID, 1)
    sign_dpia(db, overruled_because="The board accepts the residual risk of the team-level report.")
    signed = db.dpia_signoff(PID, 1)
    assert signed is not None
    assert (signed.dpia_sha256, signed.residual_risk, signed.advice_accepted) == (DPIA_SHA256, "low", False)
    assert signed.overruled_because == "The board accepts the residual risk of the team-level report."
    assert (signed.measures_by, signed.consultation_reviewed_by, signed.signed_by) == (
        "Emma Employer",
        "Dora DPO",
        "hr:emma",
    )
    entry = db.audit_entries(limit=1)[0]
    assert entry.action == "dpia.signoff"
    assert entry.details["dpia_sha256"] == DPIA_SHA256
    assert "Dora DPO" not in str(entry.details) and "board" not in str(entry.details)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"residual_risk": "none"}, "residual-risk level"),
        ({"dpia_sha256": "abc"}, "64 lowercase hex"),
        ({"dpo_advice": " "}, "DPO's advice"),
        ({"measures_by": ""}, "measures approved by"),
        ({"overruled_because": " "}, "reasons"),
    ],
)
def test_incomplete_sign_offs_are_refused(
    db: GovernanceDB, template: str, changes: dict[str, object], message: str
) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    not_consulted(db, PID, 1)
    with pytest.raises(PolicyError, match=message):
        sign_dpia(db, **changes)
    assert db.dpia_signoff(PID, 1) is None


def test_the_database_refuses_an_unknown_risk_or_overruling_without_reasons(
    db: GovernanceDB, raw: sa.Engine, template: str
) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    not_consulted(db, PID, 1)
    sign_dpia(db)
    with pytest.raises(sa.exc.IntegrityError), raw.begin() as conn:
        conn.execute(sa.text("UPDATE dpia_signoffs SET residual_risk = 'none'"))
    with pytest.raises(sa.exc.IntegrityError), raw.begin() as conn:
        conn.execute(sa.text("UPDATE dpia_signoffs SET advice_accepted = false"))

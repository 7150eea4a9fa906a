"""Policy versions: two approvals to activate, one party to stop, and a tampered record stops everything."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from teamlens.errors import AccessDenied, NoApprovedPolicy, PolicyError
from teamlens.governance import (
    ActivePolicy,
    GovernanceDB,
    Party,
    PolicyState,
    parse_policy,
    policy_sha256,
)

from .helpers import activate, edit, not_consulted, propose_signed, sign


def actions(db: GovernanceDB) -> list[str]:
    """The lifecycle's audit actions, oldest first (the parties' key registration left out)."""
    entries = db.audit_entries(limit=1000, newest_first=False)
    return [entry.action for entry in entries if not entry.action.startswith("keys.")]


def test_a_fresh_database_has_no_policy_and_refuses_to_work(db: GovernanceDB) -> None:
    assert db.active_policy() is None
    with pytest.raises(NoApprovedPolicy) as caught:
        db.require_active_policy("ingest the Slack export")
    assert "Refusing to ingest the Slack export: no approved policy" in caught.value.message


def test_propose_stores_a_draft_and_audits_it(db: GovernanceDB, template: str) -> None:
    info = db.propose(template, "policy.toml", "analyst:ann")
    assert (info.policy_id, info.version, info.state) == ("collaboration-2026h1", 1, PolicyState.DRAFT)
    assert info.sha256 == policy_sha256(template)
    assert info.missing_parties == (Party.EMPLOYER, Party.REPRESENTATIVE)
    assert info.proposed_by == "analyst:ann"
    assert info.warnings == ()  # the template period is whole ISO months and quarters
    assert db.active_policy() is None
    [entry] = db.audit_entries()
    assert entry.action == "policy.propose"
    assert entry.details == {"policy_id": info.policy_id, "version": 1, "sha256": info.sha256, "warnings": 0}


def test_proposing_the_same_text_again_is_a_no_op_and_other_text_a_conflict(
    db: GovernanceDB, template: str
) -> None:
    first = db.propose(template, "policy.toml", "analyst:ann")
    assert db.propose(template, "policy.toml", "analyst:ann") == first
    assert actions(db) == ["policy.propose"]
    with pytest.raises(PolicyError, match="already exists with different text"):
        db.propose(template + "\n# changed\n", "policy.toml", "analyst:ann")


def test_an_invalid_policy_is_not_stored(db: GovernanceDB, template: str) -> None:
    with pytest.raises(PolicyError):
        propose_signed(
            db, edit(template, "min_group_size = 10 ", "min_group_size = 3 "), "policy.toml", "analyst:ann"
        )
    assert db.policy_versions() == []


@pytest.mark.parametrize("party", list(Party))
def test_one_party_alone_cannot_activate(db: GovernanceDB, template: str, party: Party) -> None:
    info = propose_signed(db, template, "policy.toml", "analyst:ann")
    after = db.approve(
        info.policy_id, 1, sign(db, party, "policy.approve", info.policy_id, 1), "Someone", "user:someone"
    )
    assert after.state is PolicyState.PROPOSED
    assert after.missing_parties == tuple(other for other in Party if other is not party)
    assert db.active_policy() is None
    with pytest.raises(NoApprovedPolicy):
        db.require_active_policy("release")


def test_both_approvals_activate_exactly_the_proposed_text(db: GovernanceDB, template: str) -> None:
    active = activate(db, template)
    assert isinstance(active, ActivePolicy)
    assert active.policy == parse_policy(template, "x").policy
    assert active.sha256 == policy_sha256(template)
    assert active.text == template
    assert {(approval.party, approval.sha256) for approval in active.approvals} == {
        (Party.EMPLOYER, active.sha256),
        (Party.REPRESENTATIVE, active.sha256),
    }
    assert actions(db) == [
        "policy.propose",
        "consultation.not_consulted",
        "dpia.signoff",
        "policy.approve",
        "policy.approve",
        "policy.approved",
        "policy.activate",
    ]


def test_approving_twice_is_a_no_op(db: GovernanceDB, template: str) -> None:
    info = db.propose(template, "policy.toml", "analyst:ann")
    not_consulted(db, info.policy_id, 1)
    db.approve(
        info.policy_id,
        1,
        sign(db, "employer", "policy.approve", info.policy_id, 1),
        "Emma Employer",
        "hr:emma",
    )
    again = db.approve(
        info.policy_id,
        1,
        sign(db, "employer", "policy.approve", info.policy_id, 1),
        "Emma Employer",
        "hr:emma",
    )
    assert again.state is PolicyState.PROPOSED
    assert len(again.approvals) == 1
    assert actions(db) == ["policy.propose", "consultation.not_consulted", "policy.approve"]


def test_approving_an_unknown_version_or_party_is_refused(db: GovernanceDB, template: str) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann")
    with pytest.raises(PolicyError, match="There is no policy 'collaboration-2026h1' version 2"):
        db.approve(
            "collaboration-2026h1",
            2,
            sign(db, "employer", "policy.approve", "collaboration-2026h1", 2),
            "Emma",
            "hr:emma",
        )
    with pytest.raises(AccessDenied, match=r"the manager may not sign 'policy\.approve'"):
        db.approve(
            "collaboration-2026h1",
            1,
            sign(db, "manager", "policy.approve", "collaboration-2026h1", 1),
            "Max",
            "mgr:max",
        )


def test_approving_a_text_other_than_the_one_reviewed_is_refused(db: GovernanceDB, template: str) -> None:
    info = propose_signed(db, template, "policy.toml", "analyst:ann")
    with pytest.raises(PolicyError, match="is not the stored text"):
        db.approve(
            info.policy_id,
            1,
            sign(db, "employer", "policy.approve", info.policy_id, 1),
            "Emma",
            "hr:emma",
            sha256=policy_sha256(template + " "),
        )
    assert db.approve(
        info.policy_id,
        1,
        sign(db, "employer", "policy.approve", info.policy_id, 1),
        "Emma",
        "hr:emma",
        sha256=info.sha256,
    ).approvals


def test_a_widening_version_supersedes_the_active_one_only_when_both_approve(
    db: GovernanceDB, template: str
) -> None:
    activate(db, template)
    v2 = edit(template, "version = 1 ", "version = 2 ")
    v2 = edit(v2, "min_group_size = 10 ", "min_group_size = 8 ")
    propose_signed(db, v2, "policy.toml", "analyst:ann")
    db.approve(
        "collaboration-2026h1",
        2,
        sign(db, "employer", "policy.approve", "collaboration-2026h1", 2),
        "Emma",
        "hr:emma",
    )
    still = db.require_active_policy("release")
    assert (still.version, still.policy.min_group_size) == (1, 10)
    db.approve(
        "collaboration-2026h1",
        2,
        sign(db, "representative", "policy.approve", "collaboration-2026h1", 2),
        "Rob",
        "rep:rob",
    )
    now = db.require_active_policy("release")
    assert (now.version, now.policy.min_group_size) == (2, 8)
    states = {info.version: info.state for info in db.policy_versions("collaboration-2026h1")}
    assert states == {1: PolicyState.SUPERSEDED, 2: PolicyState.ACTIVE}
    assert actions(db)[-2:] == ["policy.supersede", "policy.activate"]


def test_an_older_version_cannot_replace_the_active_one(db: GovernanceDB, template: str) -> None:
    activate(db, edit(template, "version = 1 ", "version = 3 "))
    propose_signed(db, template, "policy.toml", "analyst:ann")
    for party in Party:
        with pytest.raises(PolicyError, match="older version 1 cannot replace it"):
            db.approve(
                "collaboration-2026h1",
                1,
                sign(db, party, "policy.approve", "collaboration-2026h1", 1),
                "Someone",
                "someone",
            )
    assert db.policy_versions("collaboration-2026h1")[0].approvals == ()
    assert db.require_active_policy("release").version == 3


def test_only_one_policy_is_active_at_a_time(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    other = edit(template, 'id = "collaboration-2026h1"', 'id = "after-hours-2026"')
    propose_signed(db, other, "other.toml", "analyst:ann")
    db.approve(
        "after-hours-2026",
        1,
        sign(db, "employer", "policy.approve", "after-hours-2026", 1),
        "Emma",
        "hr:emma",
    )
    waiting = db.approve(
        "after-hours-2026",
        1,
        sign(db, "representative", "policy.approve", "after-hours-2026", 1),
        "Rob",
        "rep:rob",
    )
    assert waiting.state is PolicyState.APPROVED  # signed by both, waiting for the other to end
    assert db.require_active_policy("release").policy_id == "collaboration-2026h1"
    with pytest.raises(PolicyError, match="only one policy can be active at a time"):
        db.activate(
            "after-hours-2026", 1, sign(db, "employer", "policy.activate", "after-hours-2026", 1), "hr:emma"
        )
    db.retire(
        "collaboration-2026h1", 1, sign(db, "employer", "policy.retire", "collaboration-2026h1", 1), "hr:emma"
    )
    assert (
        db.activate(
            "after-hours-2026",
            1,
            sign(db, "representative", "policy.activate", "after-hours-2026", 1),
            "rep:rob",
        ).state
        is PolicyState.ACTIVE
    )
    assert db.require_active_policy("release").policy_id == "after-hours-2026"


@pytest.mark.parametrize("party", list(Party))
def test_either_party_alone_can_suspend(db: GovernanceDB, template: str, party: Party) -> None:
    activate(db, template)
    info = db.suspend(
        "collaboration-2026h1",
        sign(db, party, "policy.suspend", "collaboration-2026h1"),
        f"{party.value}:someone",
    )
    assert info.state is PolicyState.SUSPENDED
    assert db.active_policy() is None
    with pytest.raises(NoApprovedPolicy):
        db.require_active_policy("release")
    last = db.audit_entries(limit=1)[0]
    assert (last.action, last.details["party"]) == ("policy.suspend", party.value)
    assert (
        db.suspend(
            "collaboration-2026h1", sign(db, party, "policy.suspend", "collaboration-2026h1"), "again"
        ).state
        is PolicyState.SUSPENDED
    )
    # Approving the suspended version again does not bring it back: that needs a new version.
    assert (
        db.approve(
            "collaboration-2026h1",
            1,
            sign(db, "employer", "policy.approve", "collaboration-2026h1", 1),
            "Emma",
            "hr:emma",
        ).state
        is PolicyState.SUSPENDED
    )
    assert db.active_policy() is None


def test_suspending_a_policy_that_never_ran_is_refused(db: GovernanceDB) -> None:
    with pytest.raises(PolicyError, match="has no active version to suspend"):
        db.suspend("nothing", sign(db, "representative", "policy.suspend", "nothing"), "rep:rob")


def test_the_database_refuses_a_group_size_under_5(db: GovernanceDB, raw: sa.Engine, template: str) -> None:
    insert = sa.text(
        "INSERT INTO policy_versions (policy_id, version, title, toml, sha256, state, source, proposed_by,"
        " created_at, state_changed_at, min_group_size) VALUES ('p', 1, 't', 'x', 'h', 'proposed', 's', 'a',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :k)"
    )
    with pytest.raises(sa.exc.IntegrityError), raw.begin() as conn:
        conn.execute(insert, {"k": 4})
    with raw.begin() as conn:
        conn.execute(insert, {"k": 5})
    propose_signed(db, template, "policy.toml", "analyst:ann")
    with pytest.raises(sa.exc.IntegrityError), raw.begin() as conn:
        conn.execute(
            sa.text("UPDATE policy_versions SET min_group_size = 2 WHERE policy_id = 'collaboration-2026h1'")
        )


def test_the_database_refuses_two_active_versions(db: GovernanceDB, raw: sa.Engine, template: str) -> None:
    activate(db, template)
    propose_signed(db, edit(template, "version = 1 ", "version = 2 "), "policy.toml", "analyst:ann")
    with pytest.raises(sa.exc.IntegrityError), raw.begin() as conn:
        conn.execute(sa.text("UPDATE policy_versions SET state = 'active' WHERE version = 2"))


TAMPERING = {
    "text edited": ("UPDATE policy_versions SET toml = :toml", "its text no longer matches its hash"),
    "text and hash edited": (
        "UPDATE policy_versions SET toml = :toml, sha256 = :sha",
        "its text is not the text the employer approved",
    ),
    "hash edited": ("UPDATE policy_versions SET sha256 = :sha", "its text no longer matches its hash"),
    "approval removed": (
        "DELETE FROM approvals WHERE party = 'representative'",
        "marked active without the representative's approval",
    ),
    "group size column edited": (
        "UPDATE policy_versions SET min_group_size = 12",
        "its id, version or min_group_size columns differ from its text",
    ),
}


@pytest.mark.parametrize("how", TAMPERING)
def test_an_altered_policy_record_stops_everything(
    db: GovernanceDB, raw: sa.Engine, active: ActivePolicy, how: str
) -> None:
    statement, problem = TAMPERING[how]
    loosened = edit(active.text, "min_group_size = 10 ", "min_group_size = 5 ")
    with raw.begin() as conn:
        conn.execute(sa.text(statement), {"toml": loosened, "sha": policy_sha256(loosened)})
    for read in (db.active_policy, lambda: db.require_active_policy("release")):
        with pytest.raises(PolicyError) as caught:
            read()
        assert not isinstance(caught.value, NoApprovedPolicy)
        assert "was altered" in caught.value.message
        assert problem in caught.value.message
        assert "All processing is stopped" in caught.value.message
    failures = [entry for entry in db.audit_entries(limit=1000) if entry.action == "policy.integrity_failure"]
    assert len(failures) == 2
    assert problem in str(failures[0].details["problem"])
    assert failures[0].details["policy_id"] == "collaboration-2026h1"
    assert db.verify_audit().ok


def test_a_proposed_version_marked_active_by_hand_is_refused(
    db: GovernanceDB, raw: sa.Engine, template: str
) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann")
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE policy_versions SET state = 'active'"))
    with pytest.raises(PolicyError, match="marked active without the employer's approval"):
        db.require_active_policy("release")


def test_approving_an_altered_text_is_refused_and_logged(
    db: GovernanceDB, raw: sa.Engine, template: str
) -> None:
    db.propose(template, "policy.toml", "analyst:ann")
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE policy_versions SET toml = :toml"), {"toml": template + "# edited\n"})
    with pytest.raises(PolicyError, match="was altered"):
        db.approve(
            "collaboration-2026h1",
            1,
            sign(db, "employer", "policy.approve", "collaboration-2026h1", 1),
            "Emma",
            "hr:emma",
        )
    assert actions(db) == ["policy.propose", "policy.integrity_failure"]
    assert db.policy_versions()[0].approvals == ()


def test_a_narrowing_whose_base_version_is_unlinked_is_refused(
    db: GovernanceDB, raw: sa.Engine, active: ActivePolicy
) -> None:
    """A version one party approved stands only on the version it narrows; point it elsewhere and
    nothing runs."""
    narrower = propose_signed(
        db,
        edit(
            edit(active.text, "version = 1 ", "version = 2 "), "min_group_size = 10 ", "min_group_size = 12 "
        ),
        "policy.toml",
        "analyst:ann",
    )
    signed = sign(db, "representative", "policy.approve", narrower.policy_id, 2)
    assert db.approve(narrower.policy_id, 2, signed, "Rob Rep", "rep:rob").state is PolicyState.ACTIVE
    assert db.require_active_policy("release").version == 2
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE policy_versions SET tightens_version = 7 WHERE version = 2"))
    with pytest.raises(PolicyError, match="approved by one party alone, but the version it narrows is gone"):
        db.require_active_policy("release")

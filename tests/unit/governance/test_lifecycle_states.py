"""Every lifecycle transition, allowed and refused, by who asks for it (R2, R3, R5, R40)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from teamlens.errors import AccessDenied, NoApprovedPolicy, PolicyError
from teamlens.governance import EntryKind, GovernanceDB, Party, PolicyState

from .helpers import activate, edit, propose_signed, sign

PID = "collaboration-2026h1"


def state(db: GovernanceDB, version: int) -> PolicyState:
    return next(info.state for info in db.policy_versions(PID) if info.version == version)


def version(template: str, number: int, *changes: tuple[str, str]) -> str:
    text = edit(template, "version = 1 ", f"version = {number} ")
    for old, new in changes:
        text = edit(text, old, new)
    return text


# -- draft and consultation -------------------------------------------------------------------


@pytest.mark.parametrize("party", list(Party))
def test_either_party_can_put_a_draft_to_consultation(db: GovernanceDB, template: str, party: Party) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann", consulted=True)
    info = db.consult(PID, 1, sign(db, party, "policy.consult", PID, 1), f"{party.value}:x", '{"figures": 1}')
    assert info.state is PolicyState.CONSULTATION
    record = db.consultation(PID, 1)
    assert [entry.kind for entry in record.entries] == [EntryKind.PUBLISHED]
    assert record.entries[0].text == '{"figures": 1}'
    assert (
        db.consult(PID, 1, sign(db, party, "policy.consult", PID, 1), "again", "{}").state
        is PolicyState.CONSULTATION
    )  # no-op
    assert len(db.consultation(PID, 1).entries) == 1


def test_views_are_refused_before_publication_and_after_the_first_signature(
    db: GovernanceDB, template: str
) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann", consulted=True)
    with pytest.raises(PolicyError, match="has not been put to consultation"):
        db.add_view(PID, 1, "comment", "worker", "too early")
    db.consult(PID, 1, sign(db, Party.EMPLOYER, "policy.consult", PID, 1), "hr:emma", "{}")
    db.add_view(PID, 1, "comment", "", "Please drop the weekly team report.")
    db.respond(
        PID,
        1,
        sign(db, Party.EMPLOYER, "consultation.response", PID, 1, text="There is no weekly team report."),
        "hr:emma",
        "There is no weekly team report.",
    )
    db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob")
    assert state(db, 1) is PolicyState.PROPOSED
    with pytest.raises(PolicyError, match=r"consultation on policy .* is closed"):
        db.add_view(PID, 1, "objection", "worker", "too late")
    with pytest.raises(PolicyError, match="is closed"):
        db.respond(
            PID,
            1,
            sign(db, Party.EMPLOYER, "consultation.response", PID, 1, text="too late"),
            "hr:emma",
            "too late",
        )
    with pytest.raises(PolicyError, match="'vote' is not a kind of view"):
        db.add_view(PID, 1, "vote", "worker", "x")


def test_only_the_employer_responds(db: GovernanceDB, template: str) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann", consulted=True)
    db.consult(PID, 1, sign(db, Party.EMPLOYER, "policy.consult", PID, 1), "hr:emma", "{}")
    with pytest.raises(AccessDenied, match=r"the representative may not sign .consultation\.response."):
        db.respond(
            PID,
            1,
            sign(db, Party.REPRESENTATIVE, "consultation.response", PID, 1, text="We answer for them"),
            "rep:rob",
            "We answer for them",
        )
    entry = db.respond(
        PID,
        1,
        sign(db, Party.EMPLOYER, "consultation.response", PID, 1, text="Our answer"),
        "hr:emma",
        "Our answer",
    )
    assert entry.kind is EntryKind.RESPONSE


@pytest.mark.parametrize("party", list(Party))
def test_unanswered_views_block_every_signature(db: GovernanceDB, template: str, party: Party) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann", consulted=True)
    db.consult(PID, 1, sign(db, Party.EMPLOYER, "policy.consult", PID, 1), "hr:emma", "{}")
    db.add_view(PID, 1, "objection", "Team A", "Meeting hours are nobody's business.")
    with pytest.raises(PolicyError, match=r"1 view\(s\) .* have no response"):
        db.approve(PID, 1, sign(db, party, "policy.approve", PID, 1), "Someone", "someone")
    db.respond(
        PID,
        1,
        sign(
            db,
            Party.EMPLOYER,
            "consultation.response",
            PID,
            1,
            text="Kept: team-level only, with reasons ...",
        ),
        "hr:emma",
        "Kept: team-level only, with reasons ...",
    )
    db.add_view(PID, 1, "comment", "Team B", "And after hours?")
    with pytest.raises(PolicyError, match="1 view\\(s\\)"):
        db.approve(PID, 1, sign(db, party, "policy.approve", PID, 1), "Someone", "someone")
    db.respond(
        PID,
        1,
        sign(
            db, Party.EMPLOYER, "consultation.response", PID, 1, text="After-hours metrics are not collected."
        ),
        "hr:emma",
        "After-hours metrics are not collected.",
    )
    assert (
        db.approve(PID, 1, sign(db, party, "policy.approve", PID, 1), "Someone", "someone").state
        is PolicyState.PROPOSED
    )


def test_both_approvals_sign_the_consultation_record(db: GovernanceDB, template: str) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann", consulted=True)
    db.consult(PID, 1, sign(db, Party.EMPLOYER, "policy.consult", PID, 1), "hr:emma", "{}")
    db.add_view(PID, 1, "comment", "Team A", "Fine by us.")
    db.respond(
        PID,
        1,
        sign(db, Party.EMPLOYER, "consultation.response", PID, 1, text="Thank you."),
        "hr:emma",
        "Thank you.",
    )
    db.approve(PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma")
    db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob")
    active = db.require_active_policy("test")
    record = db.consultation(PID, 1)
    assert record.closed
    assert record.unanswered == 0
    assert {approval.record_sha256 for approval in active.approvals} == {record.sha256}


def test_an_edited_consultation_record_stops_everything(
    db: GovernanceDB, raw: sa.Engine, template: str
) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann", consulted=True)
    db.consult(PID, 1, sign(db, Party.EMPLOYER, "policy.consult", PID, 1), "hr:emma", "{}")
    db.add_view(PID, 1, "objection", "Team A", "We object to meeting hours.")
    db.respond(
        PID, 1, sign(db, Party.EMPLOYER, "consultation.response", PID, 1, text="Noted."), "hr:emma", "Noted."
    )
    activate(db, template)
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE consultation_entries SET text = 'We agree.' WHERE kind = 'objection'"))
    with pytest.raises(PolicyError, match="consultation record is not the record the employer approved"):
        db.require_active_policy("release")


def test_a_draft_may_be_approved_without_consultation_once_the_reasons_are_recorded(
    db: GovernanceDB, template: str
) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann", consulted=True)  # records nothing
    for party in Party:
        with pytest.raises(PolicyError, match="neither put to consultation nor has reasons") as refused:
            db.approve(PID, 1, sign(db, party, "policy.approve", PID, 1), "Emma", "hr:emma")
        assert f"teamlens policy not-consulted {PID} 1" in refused.value.hint
    db.record_not_consulted(
        PID,
        1,
        sign(
            db, Party.EMPLOYER, "consultation.not_consulted", PID, 1, text="Only the retention was shortened."
        ),
        "Emma",
        "Only the retention was shortened.",
    )
    assert (
        db.approve(PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma").state
        is PolicyState.PROPOSED
    )
    assert (
        db.approve(PID, 1, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 1), "Rob", "rep:rob").state
        is PolicyState.ACTIVE
    )
    assert db.consultation(PID, 1).published_at is None


@pytest.mark.parametrize("party", list(Party))
def test_a_proposed_version_cannot_go_back_to_consultation(
    db: GovernanceDB, template: str, party: Party
) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann")
    db.approve(PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma")
    with pytest.raises(PolicyError, match="only a draft can be put to consultation"):
        db.consult(PID, 1, sign(db, party, "policy.consult", PID, 1), "x", "{}")


# -- narrowing by one party, widening by both ---------------------------------------------------

NARROWINGS = {
    "higher k": [("min_group_size = 10 ", "min_group_size = 12 ")],
    "lower rho": [('rho = "2.0"', 'rho = "1.0"')],
    "shorter retention": [("retention_days = 35 ", "retention_days = 20 ")],
    "earlier review": [("review_date = 2027-07-05", "review_date = 2027-01-04")],
    "fewer metrics in a report": [
        (
            'level = "team"\ncadence = "quarter"\nmetrics = ["emails_sent", "emails_received", '
            '"chat_messages", '
            '"meetings_attended", "meeting_minutes"]',
            'level = "team"\ncadence = "quarter"\nmetrics = ["emails_sent"]',
        )
    ],
    "one more excluded domain": [
        ('domains = ["union.example.org"]', 'domains = ["union.example.org", "x.org"]')
    ],
    "only the title": [('title = "Team workload', 'title = "Renamed: team workload')],
}

WIDENINGS = {
    "lower k": [("min_group_size = 10 ", "min_group_size = 8 ")],
    "higher rho": [('rho = "2.0"', 'rho = "3.0"')],
    "longer retention": [("retention_days = 35 ", "retention_days = 60 ")],
    "later review": [("review_date = 2027-07-05", "review_date = 2028-07-03")],
    "another source": [('"hr_directory_csv"]', '"hr_directory_csv", "slack_export"]')],
    "higher bound": [('name = "emails_sent"\nper_week = 400', 'name = "emails_sent"\nper_week = 500')],
    "one less excluded domain": [('domains = ["union.example.org"]', "domains = []")],
    "finer cadence": [('level = "team"\ncadence = "quarter"', 'level = "team"\ncadence = "month"')],
}


@pytest.mark.parametrize("party", list(Party))
@pytest.mark.parametrize("change", NARROWINGS)
def test_one_party_alone_activates_a_narrowing(
    db: GovernanceDB, template: str, change: str, party: Party
) -> None:
    activate(db, template)
    propose_signed(db, version(template, 2, *NARROWINGS[change]), "policy.toml", "someone")
    info = db.approve(PID, 2, sign(db, party, "policy.approve", PID, 2), "Someone", "someone")
    assert info.state is PolicyState.ACTIVE
    assert info.tightens_version == 1
    assert info.missing_parties == tuple(other for other in Party if other is not party)
    assert state(db, 1) is PolicyState.SUPERSEDED
    assert db.require_active_policy("release").version == 2  # and it verifies


@pytest.mark.parametrize("party", list(Party))
@pytest.mark.parametrize("change", WIDENINGS)
def test_widening_needs_both_parties(db: GovernanceDB, template: str, change: str, party: Party) -> None:
    activate(db, template)
    propose_signed(db, version(template, 2, *WIDENINGS[change]), "policy.toml", "someone")
    assert (
        db.approve(PID, 2, sign(db, party, "policy.approve", PID, 2), "Someone", "someone").state
        is PolicyState.PROPOSED
    )
    assert db.require_active_policy("release").version == 1
    other = next(p for p in Party if p is not party)
    assert (
        db.approve(PID, 2, sign(db, other, "policy.approve", PID, 2), "Other", "other").state
        is PolicyState.ACTIVE
    )
    assert db.require_active_policy("release").version == 2


def test_a_narrowing_of_a_suspended_policy_does_not_restart_it_alone(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    db.suspend(PID, sign(db, Party.REPRESENTATIVE, "policy.suspend", PID), "rep:rob")
    propose_signed(db, version(template, 2, *NARROWINGS["higher k"]), "policy.toml", "hr:emma")
    assert (
        db.approve(PID, 2, sign(db, Party.EMPLOYER, "policy.approve", PID, 2), "Emma", "hr:emma").state
        is PolicyState.PROPOSED
    )
    with pytest.raises(NoApprovedPolicy):
        db.require_active_policy("release")


def test_a_forged_one_party_activation_of_a_widening_is_caught(
    db: GovernanceDB, raw: sa.Engine, template: str
) -> None:
    activate(db, template)
    propose_signed(db, version(template, 2, *WIDENINGS["lower k"]), "policy.toml", "hr:emma")
    db.approve(PID, 2, sign(db, Party.EMPLOYER, "policy.approve", PID, 2), "Emma", "hr:emma")
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE policy_versions SET state = 'superseded' WHERE version = 1"))
        conn.execute(
            sa.text("UPDATE policy_versions SET state = 'active', tightens_version = 1 WHERE version = 2")
        )
    with pytest.raises(PolicyError, match="approved by one party alone, yet widens version 1"):
        db.require_active_policy("release")


# -- stopping: suspend, retire ----------------------------------------------------------------


@pytest.mark.parametrize("party", list(Party))
@pytest.mark.parametrize("start", ["draft", "consultation", "proposed", "active", "suspended"])
def test_either_party_can_retire_a_version_that_has_not_ended(
    db: GovernanceDB, template: str, party: Party, start: str
) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann", consulted=start == "consultation")
    if start == "consultation":
        db.consult(PID, 1, sign(db, Party.EMPLOYER, "policy.consult", PID, 1), "hr:emma", "{}")
    if start == "proposed":
        db.approve(PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma")
    if start in ("active", "suspended"):
        activate(db, template)
    if start == "suspended":
        db.suspend(PID, sign(db, Party.EMPLOYER, "policy.suspend", PID), "hr:emma")
    assert state(db, 1).value == start
    assert db.retire(PID, 1, sign(db, party, "policy.retire", PID, 1), "someone").state is PolicyState.RETIRED
    assert (
        db.retire(PID, 1, sign(db, party, "policy.retire", PID, 1), "again").state is PolicyState.RETIRED
    )  # no-op
    assert db.active_policy() is None
    unsigned = [p for p in Party if p not in {a.party for a in db.policy_versions(PID)[0].approvals}]
    for other in unsigned:
        with pytest.raises(PolicyError, match="is retired; it can no longer be approved"):
            db.approve(PID, 1, sign(db, other, "policy.approve", PID, 1), "x", "x")


def test_the_other_party_may_countersign_a_narrowing_in_force(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    propose_signed(db, version(template, 2, *NARROWINGS["higher k"]), "policy.toml", "rep:rob")
    assert (
        db.approve(PID, 2, sign(db, Party.REPRESENTATIVE, "policy.approve", PID, 2), "Rob", "rep:rob").state
        is PolicyState.ACTIVE
    )
    info = db.approve(PID, 2, sign(db, Party.EMPLOYER, "policy.approve", PID, 2), "Emma", "hr:emma")
    assert (info.state, info.missing_parties) == (PolicyState.ACTIVE, ())
    assert db.require_active_policy("release").version == 2


def test_a_superseded_version_cannot_be_retired_or_activated(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    activate(db, version(template, 2))
    with pytest.raises(PolicyError, match="is superseded; a later version replaced it"):
        db.retire(PID, 1, sign(db, Party.EMPLOYER, "policy.retire", PID, 1), "hr:emma")
    with pytest.raises(PolicyError, match="only a version both parties approved can be activated"):
        db.activate(PID, 1, sign(db, Party.EMPLOYER, "policy.activate", PID, 1), "hr:emma")


@pytest.mark.parametrize("start", ["draft", "proposed"])
def test_a_version_not_yet_approved_by_both_cannot_be_activated(
    db: GovernanceDB, template: str, start: str
) -> None:
    propose_signed(db, template, "policy.toml", "analyst:ann")
    if start == "proposed":
        db.approve(PID, 1, sign(db, Party.EMPLOYER, "policy.approve", PID, 1), "Emma", "hr:emma")
    for party in Party:
        with pytest.raises(PolicyError, match=f"is {start}; only a version both parties approved"):
            db.activate(PID, 1, sign(db, party, "policy.activate", PID, 1), "someone")
    assert db.active_policy() is None


def test_suspension_cannot_be_undone_by_approving_or_activating(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    db.suspend(PID, sign(db, Party.REPRESENTATIVE, "policy.suspend", PID), "rep:rob")
    with pytest.raises(PolicyError, match="is suspended; only a version both parties approved"):
        db.activate(PID, 1, sign(db, Party.EMPLOYER, "policy.activate", PID, 1), "hr:emma")
    assert db.active_policy() is None

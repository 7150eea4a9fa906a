"""Jurisdiction profiles (R41): the field, its defaults, and the approvers each profile requires.

A policy that lacks its jurisdiction's required approver never starts: the wrong representative
body in any profile; in Germany and the Netherlands, a narrowing version the employer alone
signed; in France, a version never put to consultation. The teeth: the same steps start the
version where the profile does not ask for it (the UK), so each refusal is the profile's doing.
"""

from __future__ import annotations

import pytest

from teamlens.domain import PROFILES, Jurisdiction, RepresentativeBody
from teamlens.errors import PolicyError, PolicyFieldError
from teamlens.governance import GovernanceDB, Party, PolicyState, parse_policy

from .helpers import edit, propose_signed, register_keys, sign, sign_off

PID = "collaboration-2026h1"
FIELDS = 'jurisdiction = "uk"\n'
BODY = 'representative_body = "trade_union"\n'
#: An accepted and a refused representative body in each profile (the EU accepts every body).
BODIES = {
    "uk": ("trade_union", "cse"),
    "eu": ("works_council", None),
    "de": ("works_council", "trade_union"),
    "fr": ("cse", "works_council"),
    "nl": ("central_works_council", "employee_forum"),
}


def under(text: str, jurisdiction: str, body: str) -> str:
    """The template under ``jurisdiction`` with ``body`` as its approving representatives."""
    text = edit(text, FIELDS, f'jurisdiction = "{jurisdiction}"\n')
    return edit(text, BODY, f'representative_body = "{body}"\n')


def approve(db: GovernanceDB, party: str, version: int = 1) -> PolicyState:
    signed = sign(db, party, "policy.approve", PID, version)
    return db.approve(PID, version, signed, f"{party} signer", f"{party}:x").state


def consult(db: GovernanceDB, version: int = 1) -> None:
    db.consult(PID, version, sign(db, Party.EMPLOYER, "policy.consult", PID, version), "hr:emma", "{}")


def test_a_policy_without_the_fields_runs_under_the_uk_profile(template: str) -> None:
    policy = parse_policy(edit(edit(template, FIELDS, ""), BODY, ""), "old.toml").policy
    assert policy.jurisdiction is Jurisdiction.UK
    assert policy.representative_body is RepresentativeBody.NOT_STATED
    assert policy.profile.name == "United Kingdom"


def test_an_unknown_jurisdiction_names_the_field_and_the_choices(template: str) -> None:
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(edit(template, FIELDS, 'jurisdiction = "us"\n'), "p.toml")
    assert caught.value.field == "policy.jurisdiction"
    assert "unknown jurisdiction 'us'" in caught.value.problem
    assert all(choice.value in caught.value.hint for choice in Jurisdiction)


def test_an_unknown_body_is_refused_and_a_foreign_one_warned(template: str) -> None:
    with pytest.raises(PolicyFieldError) as caught:
        parse_policy(edit(template, BODY, 'representative_body = "shop_stewards"\n'), "p.toml")
    assert caught.value.field == "policy.representative_body"
    warned = parse_policy(under(template, "de", "trade_union"), "p.toml").warnings
    assert any("BetrVG §87(1) no. 6" in warning and "works_council" in warning for warning in warned)


@pytest.mark.parametrize("jurisdiction", [j.value for j in Jurisdiction])
def test_left_out_group_size_and_retention_come_from_the_profile(template: str, jurisdiction: str) -> None:
    text = edit(template, "min_group_size = 10 ", "# min_group_size left out ")
    text = edit(text, "retention_days = 35 ", "# retention_days left out ")
    policy = parse_policy(under(text, jurisdiction, BODIES[jurisdiction][0]), "p.toml").policy
    chosen = PROFILES[Jurisdiction(jurisdiction)]
    assert (policy.min_group_size, policy.retention_days) == (
        chosen.default_min_group_size,
        chosen.default_retention_days,
    )


@pytest.mark.parametrize("jurisdiction", [j.value for j in Jurisdiction])
def test_the_representative_must_approve_in_every_profile(
    db: GovernanceDB, template: str, jurisdiction: str
) -> None:
    text = under(template, jurisdiction, BODIES[jurisdiction][0])
    propose_signed(db, text, "p.toml", "hr", consulted=jurisdiction == "fr")
    if jurisdiction == "fr":
        consult(db)
    assert approve(db, "employer") is PolicyState.PROPOSED
    assert db.active_policy() is None
    assert approve(db, "representative") is PolicyState.ACTIVE


@pytest.mark.parametrize(("jurisdiction", "body"), [(j, b[1]) for j, b in BODIES.items() if b[1]])
def test_a_body_the_jurisdiction_does_not_accept_cannot_activate(
    db: GovernanceDB, template: str, jurisdiction: str, body: str
) -> None:
    propose_signed(db, under(template, jurisdiction, body), "p.toml", "hr", consulted=jurisdiction == "fr")
    if jurisdiction == "fr":
        consult(db)
    approve(db, "employer")
    with pytest.raises(PolicyError) as refused:
        approve(db, "representative")
    chosen = PROFILES[Jurisdiction(jurisdiction)]
    assert chosen.approver_rule.citation in refused.value.message
    assert f"names '{body}'" in refused.value.message
    assert db.active_policy() is None
    assert db.stored_policy(PID, 1).info.state is PolicyState.PROPOSED


def narrowed(db: GovernanceDB, template: str, jurisdiction: str) -> None:
    """Version 1 active under ``jurisdiction``; version 2 (k raised to 12) proposed and signed off."""
    text = under(template, jurisdiction, BODIES[jurisdiction][0])
    propose_signed(db, text, "p.toml", "hr", consulted=jurisdiction == "fr")
    if jurisdiction == "fr":
        consult(db)
    approve(db, "employer")
    approve(db, "representative")
    second = edit(edit(text, "version = 1 ", "version = 2 "), "min_group_size = 10 ", "min_group_size = 12 ")
    propose_signed(db, second, "p2.toml", "hr")


@pytest.mark.parametrize("jurisdiction", ["de", "nl"])
def test_where_the_council_co_decides_the_employer_alone_cannot_start_a_narrowing(
    db: GovernanceDB, template: str, jurisdiction: str
) -> None:
    narrowed(db, template, jurisdiction)
    assert approve(db, "employer", 2) is PolicyState.PROPOSED
    active = db.require_active_policy("test")
    assert (active.version, active.policy.min_group_size) == (1, 10)
    assert approve(db, "representative", 2) is PolicyState.ACTIVE
    assert db.require_active_policy("test").version == 2


@pytest.mark.parametrize("jurisdiction", ["uk", "eu", "fr"])
def test_elsewhere_one_party_starts_a_narrowing_version(
    db: GovernanceDB, template: str, jurisdiction: str
) -> None:
    narrowed(db, template, jurisdiction)  # teeth: the same steps as above start version 2 at once
    assert approve(db, "employer", 2) is PolicyState.ACTIVE


def test_a_change_of_jurisdiction_or_body_needs_both_parties(db: GovernanceDB, template: str) -> None:
    narrowed(db, template, "de")
    text = under(template, "uk", "trade_union")
    third = edit(edit(text, "version = 1 ", "version = 3 "), "min_group_size = 10 ", "min_group_size = 12 ")
    propose_signed(db, third, "p3.toml", "hr")
    assert approve(db, "employer", 3) is PolicyState.PROPOSED  # not a narrowing: the council's say goes
    assert db.require_active_policy("test").policy.jurisdiction is Jurisdiction.DE


def test_france_refuses_a_version_never_consulted(db: GovernanceDB, template: str) -> None:
    propose_signed(db, under(template, "fr", "cse"), "p.toml", "hr")  # reasons for not consulting
    approve(db, "employer")
    with pytest.raises(PolicyError) as refused:
        approve(db, "representative")
    assert "L2312-38" in refused.value.message
    assert "consult" in refused.value.hint
    assert db.active_policy() is None


def test_france_starts_a_consulted_version(db: GovernanceDB, template: str) -> None:
    register_keys(db)
    db.propose(under(template, "fr", "central_cse"), "p.toml", "hr")
    consult(db)
    sign_off(db, PID, 1)
    approve(db, "employer")
    assert approve(db, "representative") is PolicyState.ACTIVE


def test_in_germany_the_councils_suspension_binds_until_both_lift_it(db: GovernanceDB, template: str) -> None:
    propose_signed(db, under(template, "de", "works_council"), "p.toml", "hr")
    approve(db, "employer")
    approve(db, "representative")
    suspended = db.suspend(PID, sign(db, "representative", "policy.suspend", PID, 1), "council")
    assert suspended.state is PolicyState.SUSPENDED
    assert db.lift(PID, 1, sign(db, "employer", "policy.lift", PID, 1), "hr").state is PolicyState.SUSPENDED
    assert db.active_policy() is None

"""Issue 9: a party's decision counts only when signed by that party's registered key.

Who claims to be a party proves nothing: the key decides. A signature is good for one action on
one version, once, shortly after it was made; a key set is registered only when both parties
witness it; and an approval or reactivation written into the database by hand is caught where
the active policy is resolved (every ingest and release) and by ``audit verify``.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teamlens.errors import AccessDenied, PolicyError
from teamlens.governance import GovernanceDB, PolicyState, SignedDecision
from teamlens.governance import signed_history as history_module
from teamlens.verify import canonical_json, ed25519_key, entry_hash, sign_ed25519

from .helpers import KEYS, activate, edit, propose_signed, register_keys, sign

PID = "collaboration-2026h1"


def approve(db: GovernanceDB, party: str, version: int = 1) -> PolicyState:
    return db.approve(PID, version, sign(db, party, "policy.approve", PID, version), party, party).state


def test_the_employer_key_cannot_approve_for_the_representative(db: GovernanceDB, template: str) -> None:
    propose_signed(db, template, "policy.toml", "analyst")
    approve(db, "employer")
    forged = sign(db, "representative", "policy.approve", PID, 1, key=KEYS["employer"])
    with pytest.raises(AccessDenied, match="names the representative but is signed with a employer key"):
        db.approve(PID, 1, forged, "Rob", "rep")
    assert db.active_policy() is None


def test_a_key_no_one_registered_decides_nothing(db: GovernanceDB, template: str) -> None:
    propose_signed(db, template, "policy.toml", "analyst")
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(AccessDenied, match="a key the key set does not list"):
        db.approve(PID, 1, sign(db, "employer", "policy.approve", PID, 1, key=stranger), "E", "e")


def test_a_signature_is_good_for_one_action_on_one_version_once(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    suspension = sign(db, "representative", "policy.suspend", PID)
    as_retirement = SignedDecision({**suspension.statement}, suspension.signature)
    with pytest.raises(AccessDenied, match=r"is for 'policy\.suspend', not 'policy\.retire'"):
        db.retire(PID, 1, as_retirement, "rep")
    # The statement's action cannot be changed either: the signature covers it.
    relabelled = SignedDecision({**suspension.statement, "action": "policy.retire"}, suspension.signature)
    with pytest.raises(AccessDenied, match="does not verify"):
        db.retire(PID, 1, relabelled, "rep")
    db.suspend(PID, suspension, "rep")
    assert db.active_policy() is None
    lift = sign(db, "employer", "policy.lift", PID, 1)
    db.lift(PID, 1, lift, "emp")
    with pytest.raises(AccessDenied, match="already used"):
        db.lift(PID, 1, lift, "emp")


def test_a_signature_for_one_version_does_not_approve_another(db: GovernanceDB, template: str) -> None:
    propose_signed(db, template, "policy.toml", "analyst")
    propose_signed(db, edit(template, "version = 1 ", "version = 2 "), "v2.toml", "analyst")
    for_v1 = sign(db, "employer", "policy.approve", PID, 1)
    with pytest.raises(PolicyError, match="names another version"):
        db.approve(PID, 2, for_v1, "E", "e")


def test_an_old_signature_is_refused(db: GovernanceDB, template: str) -> None:
    propose_signed(db, template, "policy.toml", "analyst")
    statement = db.decision_statement("policy.approve", "employer", PID, 1)
    statement["at"] = (db.now() - dt.timedelta(minutes=11)).isoformat(timespec="seconds")
    old = SignedDecision(statement, sign_ed25519(KEYS["employer"], statement))
    with pytest.raises(AccessDenied, match="not from the last 10 minutes"):
        db.approve(PID, 1, old, "E", "e")


def test_lifting_a_suspension_needs_both_parties(db: GovernanceDB, template: str) -> None:
    activate(db, template)
    db.suspend(PID, sign(db, "employer", "policy.suspend", PID), "emp")
    assert db.lift(PID, 1, sign(db, "employer", "policy.lift", PID, 1), "emp").state is PolicyState.SUSPENDED
    assert db.active_policy() is None
    after = db.lift(PID, 1, sign(db, "representative", "policy.lift", PID, 1), "rep")
    assert after.state is PolicyState.ACTIVE
    assert db.require_active_policy("release").version == 1
    assert db.verify_audit().ok


# -- key sets ---------------------------------------------------------------------------------


def test_a_key_set_is_registered_only_when_every_key_signed_it(db: GovernanceDB) -> None:
    keys = [ed25519_key(KEYS[p], p, p) for p in ("employer", "representative")]
    proposed = db.propose_key_set(keys, "", "setup")
    db.sign_key_set(proposed.digest, sign_ed25519(KEYS["employer"], proposed.statement), "emp")
    assert db.registered_keys() is None  # the representative has not signed
    done = db.sign_key_set(proposed.digest, sign_ed25519(KEYS["representative"], proposed.statement), "rep")
    assert done.registered_at is not None
    registered = db.registered_keys()
    assert registered is not None
    assert {k.party for k in registered.keys} == {"employer", "representative"}


def test_one_party_cannot_replace_the_other_partys_key(db: GovernanceDB) -> None:
    register_keys(db)
    impostor = Ed25519PrivateKey.generate()
    keys = [ed25519_key(KEYS["employer"], "employer", "e"), ed25519_key(impostor, "representative", "r")]
    proposed = db.propose_key_set(keys, "", "employer")
    db.sign_key_set(proposed.digest, sign_ed25519(KEYS["employer"], proposed.statement), "emp")
    info = db.sign_key_set(proposed.digest, sign_ed25519(impostor, proposed.statement), "emp")
    assert info.registered_at is None
    assert "no representative key of the key set in force has signed" in info.missing
    registered = db.registered_keys()
    assert registered is not None and registered.key(ed25519_key(impostor, "x", "x").fingerprint) is None


# -- the database edited behind teamlens' back -------------------------------------------------


def _add_representative_approval(raw: sa.Engine) -> None:
    with raw.begin() as conn:
        row = conn.execute(
            sa.text("SELECT sha256, record_sha256 FROM approvals WHERE party='employer'")
        ).one()
        conn.execute(
            sa.text(
                "INSERT INTO approvals (policy_id, version, party, approver, sha256, approved_at, "
                "record_sha256) VALUES (:p, 1, 'representative', 'Rob', :s, :t, :r)"
            ),
            {"p": PID, "s": row.sha256, "t": dt.datetime(2026, 2, 2), "r": row.record_sha256},
        )
        conn.execute(sa.text("UPDATE policy_versions SET state = 'active'"))


def _forge_approval_entry(raw: sa.Engine) -> None:
    """Append a representative approval whose signature is made with the employer's key, chain rebuilt."""
    with raw.begin() as conn:
        last = conn.execute(sa.text("SELECT seq, hash, details FROM audit_log ORDER BY seq DESC")).first()
        employer = json.loads(
            conn.execute(sa.text("SELECT details FROM audit_log WHERE action='policy.approve'")).scalar_one()
        )
        statement = {**employer["signed"]["statement"], "party": "representative", "nonce": "f" * 32}
        signature = sign_ed25519(KEYS["employer"], statement)
        signature["key"] = ed25519_key(KEYS["representative"], "representative", "").fingerprint
        details = {
            **employer,
            "party": "representative",
            "signed": {"statement": statement, "signature": signature},
        }
        at = "2026-02-02T09:30:00.000000+00:00"
        seq = last.seq + 1
        digest = entry_hash(seq, at, "rep", "policy.approve", details, last.hash)
        conn.execute(
            sa.text("INSERT INTO audit_log VALUES (:seq, :at, 'rep', 'policy.approve', :d, :prev, :h)"),
            {"seq": seq, "at": at, "d": canonical_json(details), "prev": last.hash, "h": digest},
        )
        conn.execute(sa.text("UPDATE audit_head SET seq = :seq, hash = :h"), {"seq": seq, "h": digest})


def test_an_approval_added_to_the_database_is_caught(
    db: GovernanceDB, raw: sa.Engine, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    propose_signed(db, template, "policy.toml", "analyst")
    approve(db, "employer")
    _add_representative_approval(raw)
    _forge_approval_entry(raw)
    with pytest.raises(PolicyError, match="was altered"):
        db.require_active_policy("ingest exports")
    verdict = db.verify_audit()
    assert not verdict.ok
    assert "does not verify with the registered key" in verdict.problem
    assert "representative's approval" in verdict.problem
    # Teeth: with the signature check switched off, the same forged record would run.
    monkeypatch.setattr(history_module, "signed_entry_problem", lambda *args: "")
    assert db.require_active_policy("ingest exports").version == 1


def test_an_approval_row_with_no_entry_at_all_is_caught(
    db: GovernanceDB, raw: sa.Engine, template: str
) -> None:
    propose_signed(db, template, "policy.toml", "analyst")
    approve(db, "employer")
    _add_representative_approval(raw)
    with pytest.raises(PolicyError, match="no valid signature of the representative"):
        db.require_active_policy("release")
    assert "no valid signature in the audit log" in db.verify_audit().problem


def test_a_suspension_undone_in_the_database_is_caught(
    db: GovernanceDB, raw: sa.Engine, template: str
) -> None:
    activate(db, template)
    db.suspend(PID, sign(db, "representative", "policy.suspend", PID), "rep")
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE policy_versions SET state = 'active'"))
    with pytest.raises(PolicyError, match="a party's signature suspended or retired it"):
        db.require_active_policy("release")


def test_activating_a_version_with_an_approval_added_by_hand_is_refused(
    db: GovernanceDB, raw: sa.Engine, template: str
) -> None:
    """A version waiting while another policy is in force: its forged approval is caught at activation."""
    activate(db, template)
    other = edit(template, 'id = "collaboration-2026h1"', 'id = "after-hours-2026"')
    propose_signed(db, other, "other.toml", "analyst")
    db.approve("after-hours-2026", 1, sign(db, "employer", "policy.approve", "after-hours-2026", 1), "E", "e")
    with raw.begin() as conn:
        row = conn.execute(
            sa.text("SELECT sha256, record_sha256 FROM approvals WHERE policy_id = 'after-hours-2026'")
        ).one()
        conn.execute(
            sa.text(
                "INSERT INTO approvals (policy_id, version, party, approver, sha256, approved_at, "
                "record_sha256) VALUES ('after-hours-2026', 1, 'representative', 'Rob', :s, :t, :r)"
            ),
            {"s": row.sha256, "t": dt.datetime(2026, 2, 2), "r": row.record_sha256},
        )
        conn.execute(
            sa.text("UPDATE policy_versions SET state = 'approved' WHERE policy_id = 'after-hours-2026'")
        )
    db.retire(PID, 1, sign(db, "employer", "policy.retire", PID, 1), "emp")
    with pytest.raises(PolicyError, match="no valid signature of the representative"):
        db.activate(
            "after-hours-2026", 1, sign(db, "employer", "policy.activate", "after-hours-2026", 1), "e"
        )
    assert db.active_policy() is None

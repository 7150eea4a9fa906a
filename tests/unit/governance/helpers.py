"""Small helpers shared by the governance tests."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teamlens.governance import ActivePolicy, GovernanceDB, Party, PolicyVersionInfo, SignedDecision
from teamlens.verify import ed25519_key, sign_ed25519

#: The key holders of every test installation: Ed25519 keys made here, once per test run.
KEYS = {party: Ed25519PrivateKey.generate() for party in ("employer", "representative", "dpo")}


def register_keys(db: GovernanceDB, parties: tuple[str, ...] = ("employer", "representative", "dpo")) -> None:
    """Register the test parties' keys, each signing the key set (the witnessed step)."""
    if db.registered_keys() is not None:
        return
    proposed = db.propose_key_set([ed25519_key(KEYS[p], p, f"{p} test key") for p in parties], "", "setup")
    for party in parties:
        db.sign_key_set(proposed.digest, sign_ed25519(KEYS[party], proposed.statement), party)


def sign(
    db: GovernanceDB,
    party: Party | str,
    action: str,
    policy_id: str,
    version: int | None = None,
    *,
    text: str | None = None,
    key: Ed25519PrivateKey | None = None,
) -> SignedDecision:
    """``party``'s decision to take ``action`` on a policy version, signed with its test key."""
    register_keys(db)
    statement = db.decision_statement(action, str(party), policy_id, version, text=text)
    return SignedDecision(statement, sign_ed25519(key or KEYS.get(str(party), KEYS["employer"]), statement))


class SteppingClock:
    """A clock that starts at a fixed instant and moves one millisecond each time it is read."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now


def edit(text: str, old: str, new: str) -> str:
    """Replace ``old`` (which must occur exactly once) so that a test cannot edit nothing."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def activate(db: GovernanceDB, text: str) -> ActivePolicy:
    """Propose ``text``, sign off its DPIA and have both parties approve it ."""
    register_keys(db)
    info = db.propose(text, "policy.toml", "analyst:ann")
    if info.state.value == "draft":
        not_consulted(db, info.policy_id, info.version)
    sign_off(db, info.policy_id, info.version)  # before the first approval: a narrowing runs on one
    db.approve(
        info.policy_id,
        info.version,
        sign(db, "employer", "policy.approve", info.policy_id, info.version),
        "Emma Employer",
        "hr:emma",
    )
    db.approve(
        info.policy_id,
        info.version,
        sign(db, "representative", "policy.approve", info.policy_id, info.version),
        "Rob Rep",
        "rep:rob",
    )
    return db.require_active_policy("test")


#: A stand-in for the sha256 of a rendered DPIA (the service hashes the real one).
DPIA_SHA256 = "d" * 64


def sign_off(db: GovernanceDB, policy_id: str, version: int, residual_risk: str = "low") -> None:
    """Record a DPIA sign-off for a version, as must happen before it is approved (R4)."""
    db.sign_off_dpia(
        policy_id,
        version,
        dpia_sha256=DPIA_SHA256,
        measures_by="Emma Employer",
        residual_risk=residual_risk,
        dpo_advice="Proceed with the measures in the policy.",
        consultation_reviewed_by="Dora DPO",
        actor="hr:emma",
    )


def propose_signed(
    db: GovernanceDB, text: str, source: str, actor: str, *, consulted: bool = False
) -> PolicyVersionInfo:
    """Propose ``text`` and sign off its DPIA at once, for tests about what comes after (R4).

    Unless the test will consult on it (``consulted``), the employer's reasons for not
    consulting are recorded first (R5).
    """
    register_keys(db)
    info = db.propose(text, source, actor)
    if not consulted and info.state.value == "draft":
        not_consulted(db, info.policy_id, info.version)
    sign_off(db, info.policy_id, info.version)
    return info


def not_consulted(db: GovernanceDB, policy_id: str, version: int) -> None:
    """Record the employer's reasons for not consulting on a draft (R5), for tests that skip it."""
    reason = "A test of the lifecycle."
    signed = sign(db, "employer", "consultation.not_consulted", policy_id, version, text=reason)
    db.record_not_consulted(policy_id, version, signed, "Emma Employer", reason)

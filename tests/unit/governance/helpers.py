"""Small helpers shared by the governance tests."""

from __future__ import annotations

import datetime as dt

from teamlens.governance import ActivePolicy, GovernanceDB, PolicyVersionInfo


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
    info = db.propose(text, "policy.toml", "analyst:ann")
    if info.state.value == "draft":
        not_consulted(db, info.policy_id, info.version)
    sign_off(db, info.policy_id, info.version)  # before the first approval: a narrowing runs on one
    db.approve(info.policy_id, info.version, "employer", "Emma Employer", "hr:emma")
    db.approve(info.policy_id, info.version, "representative", "Rob Rep", "rep:rob")
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
    info = db.propose(text, source, actor)
    if not consulted and info.state.value == "draft":
        not_consulted(db, info.policy_id, info.version)
    sign_off(db, info.policy_id, info.version)
    return info


def not_consulted(db: GovernanceDB, policy_id: str, version: int) -> None:
    """Record the employer's reasons for not consulting on a draft (R5), for tests that skip it."""
    db.record_not_consulted(policy_id, version, "employer", "Emma Employer", "A test of the lifecycle.")

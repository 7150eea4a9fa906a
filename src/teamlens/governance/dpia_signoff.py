"""The DPIA sign-off of a policy version (R4 step 7): recorded before the version may run.

``sign_off`` stores who approved the measures, the residual risk, the DPO's advice and whether
it was accepted (or why it was overruled), and who reviewed the consultation responses, bound
to the sha256 of the DPIA those people read (the service renders and hashes it). Signing again
before the version is approved replaces the sign-off (for example after the ICO was consulted).
``require_for_activation`` is the gate ``policy_versions`` applies before a version becomes
approved: no sign-off, or a "high" residual risk, and nothing starts (UK GDPR Art 36).
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from teamlens.errors import PolicyError
from teamlens.governance import audit_log
from teamlens.governance import version_rows as rows
from teamlens.governance.records import RESIDUAL_RISKS, DpiaSignOff, PolicyState
from teamlens.governance.tables import as_utc, dpia_signoffs

_SIGNABLE = (PolicyState.DRAFT, PolicyState.CONSULTATION, PolicyState.PROPOSED)
_MAX_NAME = 200
_MAX_TEXT = 20_000
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sign_off(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    *,
    dpia_sha256: str,
    measures_by: str,
    residual_risk: str,
    dpo_advice: str,
    overruled_because: str | None,
    consultation_reviewed_by: str,
    actor: str,
    now: dt.datetime,
) -> DpiaSignOff:
    """Record (or, before approval, replace) the sign-off of one version; audited without its texts."""
    found = rows.require_row(conn, policy_id, version)
    state = PolicyState(found.state)
    if state not in _SIGNABLE:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is {state.value}; "
            "its DPIA sign-off can no longer change.",
            "Propose a new version and sign off its DPIA before it is approved.",
        )
    if not _SHA256.fullmatch(dpia_sha256):
        raise PolicyError(
            "The DPIA hash must be 64 lowercase hex digits (sha256).", "Sign off a generated DPIA."
        )
    if residual_risk not in RESIDUAL_RISKS:
        raise PolicyError(
            f"'{residual_risk}' is not a residual-risk level.", f"Use one of: {', '.join(RESIDUAL_RISKS)}."
        )
    names = {"measures approved by": measures_by, "consultation reviewed by": consultation_reviewed_by}
    for label, name in names.items():
        if not name.strip() or len(name) > _MAX_NAME:
            raise PolicyError(
                f"Give who the {label} is (1–{_MAX_NAME} characters).", "Name a person or role."
            )
    if not dpo_advice.strip() or len(dpo_advice) > _MAX_TEXT:
        raise PolicyError(
            f"The DPO's advice must be recorded (1–{_MAX_TEXT} characters).", "Pass the advice as given."
        )
    reasons = None if overruled_because is None else overruled_because.strip()
    if reasons is not None and (not reasons or len(reasons) > _MAX_TEXT):
        raise PolicyError(
            "Overruling the DPO's advice needs the reasons (ICO DPIA step 7).", "Give them with the sign-off."
        )
    values = {
        "dpia_sha256": dpia_sha256,
        "measures_by": measures_by.strip(),
        "residual_risk": residual_risk,
        "dpo_advice": dpo_advice,
        "advice_accepted": reasons is None,
        "overruled_because": reasons,
        "consultation_reviewed_by": consultation_reviewed_by.strip(),
        "signed_by": actor,
        "signed_at": now,
    }
    replaced = get(conn, policy_id, version) is not None
    if replaced:
        conn.execute(
            dpia_signoffs.update()
            .where(dpia_signoffs.c.policy_id == policy_id, dpia_signoffs.c.version == version)
            .values(**values)
        )
    else:
        conn.execute(dpia_signoffs.insert().values(policy_id=policy_id, version=version, **values))
    audit_log.append(
        conn,
        now,
        actor,
        "dpia.signoff",
        {
            "policy_id": policy_id,
            "version": version,
            "dpia_sha256": dpia_sha256,
            "residual_risk": residual_risk,
            "advice_accepted": reasons is None,
            "replaced": replaced,
        },
    )
    signed = get(conn, policy_id, version)
    assert signed is not None
    return signed


def get(conn: sa.Connection, policy_id: str, version: int) -> DpiaSignOff | None:
    """The sign-off of one version, if any."""
    r = conn.execute(
        sa.select(dpia_signoffs).where(
            dpia_signoffs.c.policy_id == policy_id, dpia_signoffs.c.version == version
        )
    ).one_or_none()
    if r is None:
        return None
    return DpiaSignOff(
        policy_id=r.policy_id,
        version=r.version,
        dpia_sha256=r.dpia_sha256,
        measures_by=r.measures_by,
        residual_risk=r.residual_risk,
        dpo_advice=r.dpo_advice,
        advice_accepted=bool(r.advice_accepted),
        overruled_because=r.overruled_because,
        consultation_reviewed_by=r.consultation_reviewed_by,
        signed_by=r.signed_by,
        signed_at=as_utc(r.signed_at),
    )


def require_for_activation(conn: sa.Connection, policy_id: str, version: int) -> DpiaSignOff:
    """Refuse (PolicyError) to let a version become approved without a sign-off, or at high risk."""
    signed = get(conn, policy_id, version)
    if signed is None:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} has no DPIA sign-off, so it cannot be approved "
            "or become active (R4). Nothing was approved.",
            f'Sign off its DPIA first: `teamlens docs signoff {policy_id} {version} --measures-by "…" '
            '--residual-risk low --dpo-advice "…" --consultation-reviewed-by "…"` (the residual risk '
            "is low, medium or high).",
        )
    if signed.residual_risk == "high":
        raise PolicyError(
            f"The DPIA of policy '{policy_id}' version {version} records a high residual risk, so it "
            "cannot become active. Nothing was approved.",
            "Consult the ICO before processing (prior consultation, UK GDPR Art 36), or reduce the risk "
            f"and sign off again with `teamlens docs signoff {policy_id} {version} …`.",
        )
    return signed

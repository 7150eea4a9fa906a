"""What the policy's jurisdiction requires before a version may start: the right approvers (R41).

Every jurisdiction keeps teamlens' own rule that both parties approve (R2); the profile
(``domain.jurisdiction``) adds to it. The workers' representative who signs must be a body the
jurisdiction gives the say (Germany and the Netherlands: the works council; France: the CSE),
named in the policy's ``representative_body`` and so approved by both parties with the text. It
signs with the ``representative`` key of the key set: a works council or CSE is the
representative party, not a party of its own. Where the body co-decides (Germany, the
Netherlands) a version that only narrows the one in force still needs its signature, so the
employer's word alone starts nothing. Where the body must be consulted first (France), the
employer's reasons for not consulting are not enough.

``one_word_starts`` says whether a narrowing version may start on the one party's signature;
``require`` is the gate ``policy_versions`` and ``policy_stops`` apply before a version starts.
"""

from __future__ import annotations

import sqlalchemy as sa

from teamlens.domain import Policy
from teamlens.errors import PolicyError
from teamlens.governance import consultation
from teamlens.governance.records import Party


def one_word_starts(policy: Policy, party: Party) -> bool:
    """Whether ``party`` alone may start a version that only narrows the one in force (R3)."""
    return party is Party.REPRESENTATIVE or not policy.profile.representative_signs_every_version


def require(conn: sa.Connection, policy: Policy, version: int, parties: set[Party], *, narrows: bool) -> None:
    """Refuse to start ``policy`` unless its jurisdiction's approvers are there (module docstring)."""
    chosen = policy.profile
    where = (
        f"Policy '{policy.policy_id}' version {version} runs in {chosen.name} "
        f"(jurisdiction '{chosen.jurisdiction}')"
    )
    if policy.representative_body not in chosen.representative_bodies:
        raise PolicyError(
            f"{where}, where the approving representative must be one of: {chosen.body_names} "
            f"({chosen.approver_rule.citation}: {chosen.approver_rule.says}). This version names "
            f"'{policy.representative_body}', so it cannot start. Nothing was approved.",
            "Propose a new version whose representative_body is that body; its members sign with the "
            "representative key.",
        )
    if chosen.representative_signs_every_version and Party.REPRESENTATIVE not in parties:
        raise PolicyError(
            f"{where}, where the {policy.representative_body.value.replace('_', ' ')} co-decides every "
            f"change ({chosen.approver_rule.citation}); without its signature this version cannot start.",
            "The representative signs the version too "
            "(`teamlens policy approve … --key REPRESENTATIVE-KEY`).",
        )
    if chosen.consultation_required and not narrows:
        record = consultation.record(conn, policy.policy_id, version)
        if record.published_at is None:
            raise PolicyError(
                f"{where}, where the representatives are informed and consulted before deployment "
                f"({chosen.approver_rule.citation}); this version was not put to consultation, and reasons "
                "for not consulting are not enough there. Nothing was approved.",
                f"Consult on it (`teamlens policy consult {policy.policy_id} {version} --key EMPLOYER-KEY`) "
                "and record the representatives' opinion as a view before approving.",
            )

"""Accept a party's signed decision, or refuse it: the only way a party acts on a policy or a request.

``statement`` writes what a party signs for an action: the action, the party, the object it acts
on (policy id, version and the text's sha256; or a rights request), a timestamp and a random
nonce. ``accept`` checks a signed statement before anything changes: it names this action and
exactly this object, it was signed in the last ``FRESH`` minutes, its nonce was never used, and
the signature is valid for a key of that party in the key set in force (``verify.rules``). It
returns what the audit entry stores, the signature included. A refusal is an ``AccessDenied``
that says which check failed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa

from teamlens.errors import AccessDenied, PolicyError
from teamlens.governance import key_sets
from teamlens.governance import version_rows as rows
from teamlens.governance.records import SignedDecision
from teamlens.governance.tables import signed_decisions
from teamlens.verify import DECISION_CONTEXT, KeySet, canonical_json, decision_problem

#: How long a signed statement stays good: long enough to sign, too short to hoard signatures.
FRESH = dt.timedelta(minutes=10)
_CLOCK_SKEW = dt.timedelta(minutes=1)
_HINT = (
    "Sign the decision with your own registered key (`--key YOUR-KEY-FILE`, or your passkey in the web "
    "app); `teamlens keys list` shows the registered keys."
)


def statement(action: str, party: str, now: dt.datetime, **fields: object) -> dict[str, Any]:
    """A fresh statement of ``party`` taking ``action`` on the object ``fields`` name."""
    return {
        "context": DECISION_CONTEXT,
        "action": action,
        "party": party,
        "at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "nonce": secrets.token_hex(16),
        **fields,
    }


def accept(
    conn: sa.Connection, signed: SignedDecision, action: str, now: dt.datetime, **bound: object
) -> dict[str, Any]:
    """Check ``signed`` (module docstring) and record its nonce; returns the audit entry's fields."""
    said = signed.statement
    if said.get("action") != action:
        raise AccessDenied(
            f"The signed statement is for '{said.get('action')}', not '{action}'; nothing was done.", _HINT
        )
    for name, value in bound.items():
        if said.get(name) != value:
            raise PolicyError(
                f"The signed statement names another {name} than this {action.split('.')[-1]} concerns "
                "(the policy or the record changed since it was signed); nothing was done.",
                "Review what is stored now and sign again.",
            )
    try:
        at = dt.datetime.fromisoformat(str(said.get("at")))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or not now - FRESH <= at <= now + _CLOCK_SKEW:
        raise AccessDenied(
            f"The signed statement for '{action}' is not from the last {FRESH.seconds // 60} minutes; "
            "nothing was done.",
            "Sign again now: a signature is good for one decision, shortly after it is made.",
        )
    problem = decision_problem(said, signed.signature, key_set_in_force(conn))
    if problem:
        raise AccessDenied(f"The {signed.party}'s signature on '{action}' is refused: {problem}.", _HINT)
    nonce = str(said.get("nonce", ""))
    used = conn.execute(sa.select(signed_decisions.c.nonce).where(signed_decisions.c.nonce == nonce)).first()
    if used is not None or len(nonce) < 16:
        raise AccessDenied(
            f"This signature was already used (nonce {nonce[:8]}…); a signature is good for one decision.",
            "Sign the decision again.",
        )
    conn.execute(
        signed_decisions.insert().values(
            nonce=nonce,
            action=action,
            party=signed.party,
            key_fingerprint=str(signed.signature.get("key", "")),
            statement=canonical_json(dict(said)),
            signature=canonical_json(dict(signed.signature)),
            accepted_at=now,
        )
    )
    return {"party": signed.party, "signed": signed.to_json()}


def key_set_in_force(conn: sa.Connection) -> KeySet | None:
    """The registered key set in force; a ``PolicyError`` stopping everything if its history is broken."""
    try:
        return key_sets.current(conn)
    except key_sets.KeyHistoryBroken as broken:
        raise PolicyError(
            f"The registered keys cannot be trusted: {broken}. No decision is accepted.",
            "Restore the governance database from a backup; run `teamlens audit verify`.",
        ) from None


def on_version(
    conn: sa.Connection, signed: SignedDecision, action: str, policy_id: str, version: int, now: dt.datetime
) -> tuple[rows.Row, dict[str, Any]]:
    """The stored version a decision concerns, and the accepted decision (bound to its text's hash)."""
    row = rows.require_row(conn, policy_id, version)
    return row, accept(conn, signed, action, now, policy_id=policy_id, version=version, sha256=row.sha256)

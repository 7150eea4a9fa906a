"""What the audit log proves the parties signed: replayed from its signed entries, never from the tables.

The approvals, states and requests tables are convenient, and anyone who can write the database
can change them. The audit log's signed entries cannot be forged without a party's private key.
``read`` replays the key registrations and every signed decision (``verify.exported_log``'s
checks, the same the stand-alone verifier runs) and returns, per policy version, the texts each
party approved and the stops and lifts in order; ``problems`` lists what does not hold. The
integrity check of the active policy (``policy_integrity``) and ``audit verify`` use it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from teamlens.governance.tables import approvals
from teamlens.governance.tables import audit_log as audit_table
from teamlens.verify import (
    DECISION_PARTIES,
    KeySet,
    key_set_problem,
    must_be_signed,
    read_key_set,
)
from teamlens.verify.exported_log import signed_entry_problem

VersionKey = tuple[str, int]


@dataclass
class SignedHistory:
    """The decisions the log proves, by policy version (see the module docstring)."""

    #: (policy_id, version, party) → the (text sha256, record sha256) pairs that party signed.
    approved: dict[tuple[str, int, str], set[tuple[str, str | None]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    #: (policy_id, version) → the signed suspend, lift, retire and activate decisions, in order.
    events: dict[VersionKey, list[tuple[int, str, str]]] = field(default_factory=lambda: defaultdict(list))
    #: (request_id) → the parties that signed the request.
    requests: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    keys: KeySet | None = None
    problems: list[str] = field(default_factory=list)

    def lifted(self, version: VersionKey) -> bool:
        """Whether every suspension of a version was lifted by both parties after it (and none retired it)."""
        pending: set[str] | None = None
        for _, action, party in self.events.get(version, []):
            if action == "policy.retire":
                return False
            if action == "policy.suspend":
                pending = set()
            elif action == "policy.lift" and pending is not None:
                pending.add(party)
                if pending >= {"employer", "representative"}:
                    pending = None
        return pending is None


_ACTIONS = ("keys.register", *DECISION_PARTIES)


def read(conn: sa.Connection) -> SignedHistory:
    """Replay the log's key registrations and signed decisions (module docstring)."""
    found = SignedHistory()
    rows = conn.execute(
        sa.select(audit_table.c.seq, audit_table.c.action, audit_table.c.details)
        .where(audit_table.c.action.in_(_ACTIONS))
        .order_by(audit_table.c.seq)
    )
    for seq, action, text in rows:
        try:
            details = json.loads(text)
        except ValueError:
            found.problems.append(f"audit entry {seq} ({action}) is not valid JSON")
            continue
        if action == "keys.register":
            _register(found, seq, details)
            continue
        if not must_be_signed(action, details):
            continue
        problem = signed_entry_problem(action, details, found.keys)
        if problem:
            found.problems.append(f"audit entry {seq} ({action}): {problem}")
            continue
        _remember(found, seq, action, details["signed"]["statement"])
    return found


def _register(found: SignedHistory, seq: int, details: dict[str, object]) -> None:
    signed = details.get("signed")
    statement = signed.get("statement") if isinstance(signed, dict) else None
    signatures = signed.get("signatures") if isinstance(signed, dict) else None
    if not isinstance(statement, dict) or not isinstance(signatures, list):
        found.problems.append(f"audit entry {seq} registers keys without their signatures")
        return
    problem = key_set_problem(statement, signatures, found.keys)
    if problem:
        found.problems.append(f"audit entry {seq} registers a key set that does not hold: {problem}")
        return
    found.keys = read_key_set(statement)


def _remember(found: SignedHistory, seq: int, action: str, said: dict[str, object]) -> None:
    party = str(said.get("party"))
    if action.startswith("rights."):
        found.requests[str(said.get("request_id"))].add(party)
        return
    version = (str(said.get("policy_id")), int(str(said.get("version"))))
    if action == "policy.approve":
        record = said.get("record_sha256")
        found.approved[(*version, party)].add(
            (str(said.get("sha256")), None if record is None else str(record))
        )
    elif action in ("policy.suspend", "policy.lift", "policy.retire", "policy.activate"):
        found.events[version].append((seq, action, party))


def problems(conn: sa.Connection) -> list[str]:
    """Signed entries that do not verify, and approvals the log does not prove; empty when all hold."""
    found = read(conn)
    missing = []
    for row in conn.execute(sa.select(approvals)):
        proved = found.approved.get((row.policy_id, row.version, row.party), set())
        if (row.sha256, row.record_sha256) not in proved:
            missing.append(
                f"the {row.party}'s approval of policy '{row.policy_id}' version {row.version} has no valid "
                "signature in the audit log"
            )
    return found.problems + missing

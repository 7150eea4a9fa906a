"""Prove that the active policy is exactly what was approved, or stop everything (A16).

``load_active`` re-reads the active version and checks, every time: its text against its hash,
each approval against that hash and against the consultation record it signed (R5), that each
approval is proved by a valid signature of that party's registered key in the audit log
(``signed_history``; a row added to the approvals table by hand proves nothing), that every
suspension of it was lifted by both parties' signatures, and that both parties signed — or, for
a version one party activated alone, that it really only narrows the version it replaced (R3),
which is itself re-proved the same way. Any mismatch raises ``IntegrityFailure``;
``GovernanceDB`` logs it and turns it into a ``PolicyError``. Every ingest and release resolves
the active policy through here, so each of them re-verifies the signatures.
"""

from __future__ import annotations

import sqlalchemy as sa

from teamlens.domain import Policy
from teamlens.errors import PolicyError
from teamlens.governance import consultation, signed_history
from teamlens.governance import version_rows as rows
from teamlens.governance.policy_file import policy_sha256
from teamlens.governance.records import ActivePolicy, Party, PolicyState
from teamlens.governance.tables import as_utc, policy_versions
from teamlens.governance.tightening import widenings

#: How many one-party narrowings in a row are re-proved; more means a loop in the records.
_MAX_CHAIN = 1000


class IntegrityFailure(Exception):
    """A stored policy no longer matches what both parties approved.

    Raised inside a transaction that is then rolled back; ``GovernanceDB`` catches it, records
    it in the audit log in a transaction of its own, and raises ``errors.PolicyError`` instead.
    """

    def __init__(self, row: rows.Row, problem: str) -> None:
        super().__init__(problem)
        self.policy_id = str(row.policy_id)
        self.version = int(str(row.version))
        self.problem = problem
        self.details: dict[str, object] = {
            "policy_id": self.policy_id,
            "version": self.version,
            "problem": problem,
            "stored_sha256": row.sha256,
            "text_sha256": policy_sha256(str(row.toml)),
        }

    def to_policy_error(self) -> PolicyError:
        """Build the error people see: what was altered, and that everything has stopped."""
        return PolicyError(
            f"The stored record of policy '{self.policy_id}' version {self.version} was altered "
            f"({self.problem}). All processing is stopped until it is restored.",
            "Restore the governance database from a backup, or propose and approve the policy again. "
            "Run `teamlens audit verify` to see whether the audit log was changed too.",
        )


def load_active(conn: sa.Connection) -> ActivePolicy | None:
    """Return the active policy after re-proving it (see the module docstring); ``None`` if none."""
    found = conn.execute(
        sa.select(policy_versions).where(policy_versions.c.state == PolicyState.ACTIVE.value)
    ).all()
    if not found:
        return None
    if len(found) > 1:
        raise IntegrityFailure(found[0], "more than one version is marked active")
    row = found[0]
    history = signed_history.read(conn)
    if history.problems:
        raise IntegrityFailure(row, history.problems[0])
    if not history.lifted((row.policy_id, row.version)):
        raise IntegrityFailure(row, "it is marked active, but a party's signature suspended or retired it")
    policy = verified_policy(conn, row, history)
    if (policy.policy_id, policy.version, policy.min_group_size) != (
        row.policy_id,
        row.version,
        row.min_group_size,
    ):
        raise IntegrityFailure(row, "its id, version or min_group_size columns differ from its text")
    return ActivePolicy(
        policy=policy,
        sha256=row.sha256,
        text=row.toml,
        activated_at=as_utc(row.state_changed_at),
        approvals=rows.approvals_of(conn, row.policy_id, row.version),
    )


def verified_policy(
    conn: sa.Connection, row: rows.Row, history: signed_history.SignedHistory | None = None, depth: int = 0
) -> Policy:
    """Re-prove one version's approvals (following one-party narrowings back); return its policy."""
    if policy_sha256(row.toml) != row.sha256:
        raise IntegrityFailure(row, "its text no longer matches its hash")
    history = history or signed_history.read(conn)
    signed = rows.approvals_of(conn, row.policy_id, row.version)
    record = consultation.record(conn, row.policy_id, row.version)
    for approval in signed:
        if approval.sha256 != row.sha256:
            raise IntegrityFailure(row, f"its text is not the text the {approval.party.value} approved")
        # The approval rows alone can be rewritten by whoever can write the database; a party's
        # signature in the audit log cannot be made without that party's private key.
        proved = history.approved.get((row.policy_id, row.version, approval.party.value), set())
        if (row.sha256, approval.record_sha256) not in proved:
            raise IntegrityFailure(
                row, f"no valid signature of the {approval.party.value} approving this text is on record"
            )
        if approval.record_sha256 is not None and approval.record_sha256 != record.sha256:
            raise IntegrityFailure(
                row, f"its consultation record is not the record the {approval.party.value} approved"
            )
    try:
        policy = rows.parsed(row).policy
    except PolicyError as exc:
        raise IntegrityFailure(row, f"its text no longer parses: {exc.message}") from None
    missing = [party for party in Party if party not in {approval.party for approval in signed}]
    if not missing:
        return policy
    if row.tightens_version is None or not signed:
        raise IntegrityFailure(row, f"it is marked active without the {missing[0].value}'s approval")
    base = rows.row(conn, row.policy_id, row.tightens_version)
    if base is None or base.version >= row.version or depth >= _MAX_CHAIN:
        raise IntegrityFailure(row, "it was approved by one party alone, but the version it narrows is gone")
    wider = widenings(verified_policy(conn, base, history, depth + 1), policy)
    if wider:
        raise IntegrityFailure(
            row,
            f"it was approved by one party alone, yet widens version {base.version}: {wider[0]}",
        )
    return policy

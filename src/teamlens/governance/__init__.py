"""Governance: nothing is ingested or released until both parties have approved a policy.

The typical flow: ``policy_template()`` gives a commented policy to edit; ``parse_policy(text,
source)`` checks it strictly (unknown fields, purposes outside the closed list, a minimum group
size under 5 are all errors) and returns it with the warnings people must read and its SHA-256.
The parties first register their public keys (``propose_key_set``, then each key holder
``sign_key_set``s it; see ``key_sets``): from then on every move a party makes is a
``SignedDecision`` over a ``decision_statement``, checked against that party's key
(``decisions``). ``GovernanceDB(url).propose(...)`` stores a policy as a draft;
``consult(...)`` publishes it to workers, who ``add_view(...)``, and the employer
``respond(...)``s; ``approve(...)`` by the employer and by the representative makes it active
(one signature suffices for a version that only narrows the active one: see ``tightening``);
either party can ``suspend(...)`` or ``retire(...)`` it alone, both ``lift(...)`` a suspension,
and it lapses by itself after its review date. Every ingest and release path starts with
``require_active_policy(action)``, which re-verifies the stored text, approvals and consultation
record and stops everything if the record was altered. A release is charged
with ``record_release(...)``: the budget check, the ledger charge, the measured blocks' noisy
values, the published cells and the audit entry commit in one transaction; ``check_books(...)``
recomputes the charges and measured blocks from the audit log before every release.
``verify_audit()`` re-walks the hash-chained log.

For the policy file layout and its rules, see ``policy_file``; the example policy is in
``policy_template``. For the database, see ``db`` (the one API), ``tables`` (the schema) and
``migrate`` with ``migrations/`` (Alembic upgrades); the lifecycle is in ``policy_versions``
(with ``version_rows``), its proof against tampering in ``policy_integrity``, the consultation
record in ``consultation``, narrowing versus widening in ``tightening``, signed checkpoints of
the audit log in ``checkpoints``,
the budget ledger in ``ledger``, the kept measurements and published cells in
``measurement_cache``, the hash chain in ``audit_log``, ingested
inputs in ``ingestions``, workers' objections (R22) in ``objections``, web sessions in
``web_sessions`` and analysts' API tokens in ``api_tokens``, and the returned values
and state names in ``records``.
"""

from teamlens.governance import checkpoints
from teamlens.governance.api_tokens import StoredToken
from teamlens.governance.audit_log import GENESIS_HASH, canonical_json, entry_hash
from teamlens.governance.consultation import record_sha256
from teamlens.governance.db import SYSTEM_ACTOR, GovernanceDB
from teamlens.governance.measurement_cache import BlockMeasurement, MeasuredBlock
from teamlens.governance.migrate import current_revision, upgrade
from teamlens.governance.policy_file import (
    PRIVACY_UNIT,
    RECIPIENT_ROLES,
    ParsedPolicy,
    parse_policy,
    policy_sha256,
)
from teamlens.governance.policy_template import policy_template
from teamlens.governance.records import (
    ActivePolicy,
    Approval,
    AuditEntry,
    AuditVerification,
    Checkpoint,
    ConsultationEntry,
    ConsultationRecord,
    DpiaSignOff,
    EntryKind,
    IngestionInfo,
    KeySetInfo,
    NotConsulted,
    Notification,
    Party,
    PolicyState,
    PolicyVersionInfo,
    ReleaseInfo,
    SignedDecision,
    StoredPolicy,
)
from teamlens.governance.rights_requests import RightsRequest
from teamlens.governance.tightening import widenings

__all__ = [
    "GENESIS_HASH",
    "PRIVACY_UNIT",
    "RECIPIENT_ROLES",
    "SYSTEM_ACTOR",
    "ActivePolicy",
    "Approval",
    "AuditEntry",
    "AuditVerification",
    "BlockMeasurement",
    "Checkpoint",
    "ConsultationEntry",
    "ConsultationRecord",
    "DpiaSignOff",
    "EntryKind",
    "GovernanceDB",
    "IngestionInfo",
    "KeySetInfo",
    "MeasuredBlock",
    "NotConsulted",
    "Notification",
    "ParsedPolicy",
    "Party",
    "PolicyState",
    "PolicyVersionInfo",
    "ReleaseInfo",
    "RightsRequest",
    "SignedDecision",
    "StoredPolicy",
    "StoredToken",
    "canonical_json",
    "checkpoints",
    "current_revision",
    "entry_hash",
    "parse_policy",
    "policy_sha256",
    "policy_template",
    "record_sha256",
    "upgrade",
    "widenings",
]

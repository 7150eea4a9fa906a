"""The stand-alone verifier: checks keys, signed decisions and an exported audit log offline.

A representative runs ``python -m teamlens.verify audit-log.jsonl --trust FINGERPRINT`` on a log
exported with ``teamlens audit export``; it needs only this package, the standard library and
``cryptography``, and trusts nothing the server says. The server runs the very same checks (the
governance layer imports them), so the two cannot disagree about what a valid signature is.

For keys, statements and signature checks (Ed25519 key files and passkeys), see
``signatures``; for who may sign what (key sets witnessed by both parties, decisions), see
``rules``; for walking an exported log, see ``exported_log``; the command is ``__main__``.
"""

from teamlens.verify.exported_log import LogReport, entry_hash, must_be_signed, read_export, verify_entries
from teamlens.verify.rules import (
    DECISION_PARTIES,
    NO_PREVIOUS,
    WITNESSES,
    KeySet,
    decision_problem,
    key_set_problem,
    read_key_set,
    signers,
)
from teamlens.verify.signatures import (
    DECISION_CONTEXT,
    KEY_PARTIES,
    KEY_SET_CONTEXT,
    PartyKey,
    b64url,
    canonical_json,
    ed25519_key,
    sign_ed25519,
    spaced,
    statement_bytes,
    statement_digest,
    unb64url,
)

__all__ = [
    "DECISION_CONTEXT",
    "DECISION_PARTIES",
    "KEY_PARTIES",
    "KEY_SET_CONTEXT",
    "NO_PREVIOUS",
    "WITNESSES",
    "KeySet",
    "LogReport",
    "PartyKey",
    "b64url",
    "canonical_json",
    "decision_problem",
    "ed25519_key",
    "entry_hash",
    "key_set_problem",
    "must_be_signed",
    "read_export",
    "read_key_set",
    "sign_ed25519",
    "signers",
    "spaced",
    "statement_bytes",
    "statement_digest",
    "unb64url",
    "verify_entries",
]

"""Signed checkpoints of the audit log, held by the representative, that expose rewriting (A17).

A hash chain alone shows an edit only until someone recomputes every hash after it, and shows
nothing when the newest entries are cut off and the head moved back. A checkpoint fixes the
chain at a moment: the entry count ``seq`` and the last entry's ``head_hash``, signed with the
installation's Ed25519 key. The representative keeps the checkpoint file outside the employer's
systems; ``verify_against`` later proves that the log still has at least ``seq`` entries, that
entry ``seq`` still has that hash (so nothing up to it was edited, removed or rebuilt), and that
the chain from there on is intact. ``generate_key`` makes the key pair; ``sign`` makes a checkpoint.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from teamlens.errors import ConfigError
from teamlens.governance import audit_log
from teamlens.governance.records import AuditVerification, Checkpoint
from teamlens.governance.tables import audit_log as audit_table

#: Names the statement signed, so a signature over anything else can never pass for a checkpoint.
_CONTEXT = "teamlens audit checkpoint v1"


def generate_key() -> tuple[bytes, str]:
    """Make a new signing key: the private key as unencrypted PKCS#8 PEM, the public key as hex."""
    key = Ed25519PrivateKey.generate()
    return private_pem(key), _public_hex(key.public_key())


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """An Ed25519 private key as unencrypted PKCS#8 PEM (the key file's contents)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes, source: str) -> Ed25519PrivateKey:
    """Read a PEM private key written by ``generate_key``; a ConfigError names ``source`` if it is not one."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(
            f"{source} is not an Ed25519 private key in PEM form.",
            "Make one with `teamlens keys new` (a party's key) or `teamlens audit keygen` (checkpoints).",
        )
    return key


def message(seq: int, head_hash: str, signed_at: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    statement = {"context": _CONTEXT, "seq": seq, "head_hash": head_hash, "signed_at": signed_at}
    return audit_log.canonical_json(statement).encode("utf-8")


def sign(key: Ed25519PrivateKey, seq: int, head_hash: str, at: dt.datetime) -> Checkpoint:
    """Sign the statement that the log had ``seq`` entries ending in ``head_hash`` at ``at``."""
    signed_at = at.astimezone(dt.UTC).isoformat(timespec="seconds")
    signature = key.sign(message(seq, head_hash, signed_at))
    return Checkpoint(seq, head_hash, signed_at, _public_hex(key.public_key()), signature.hex())


def to_json(checkpoint: Checkpoint) -> str:
    """The checkpoint file's text."""
    return json.dumps(
        {
            "format": _CONTEXT,
            "seq": checkpoint.seq,
            "head_hash": checkpoint.head_hash,
            "signed_at": checkpoint.signed_at,
            "public_key": checkpoint.public_key,
            "signature": checkpoint.signature,
        },
        indent=2,
    )


def from_json(text: str, source: str) -> Checkpoint:
    """Read a checkpoint file; a ConfigError names ``source`` and the field when it is malformed."""
    try:
        data = json.loads(text)
        if data.get("format") != _CONTEXT:
            raise ValueError("format")
        checkpoint = Checkpoint(
            seq=int(data["seq"]),
            head_hash=str(data["head_hash"]),
            signed_at=str(data["signed_at"]),
            public_key=str(data["public_key"]),
            signature=str(data["signature"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(
            f"{source} is not a teamlens audit checkpoint ({type(error).__name__}: {error}).",
            "Give the file `teamlens audit checkpoint` wrote.",
        ) from None
    return checkpoint


def signature_problem(checkpoint: Checkpoint, expected_public_key: str | None = None) -> str:
    """Why the checkpoint's signature cannot be trusted, or "" when it verifies."""
    if expected_public_key is not None and checkpoint.public_key.lower() != expected_public_key.lower():
        return "the checkpoint was signed with a different key from the one you hold"
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key))
        public.verify(
            bytes.fromhex(checkpoint.signature),
            message(checkpoint.seq, checkpoint.head_hash, checkpoint.signed_at),
        )
    except (ValueError, InvalidSignature):
        return "the checkpoint's signature does not verify: the checkpoint file was altered or forged"
    return ""


def verify_against(
    conn: sa.Connection, checkpoint: Checkpoint, expected_public_key: str | None = None
) -> AuditVerification:
    """Verify the chain, then that it still holds the checkpointed entry unchanged (module docstring)."""
    problem = signature_problem(checkpoint, expected_public_key)
    if problem:
        return AuditVerification(False, 0, None, problem)
    chain = audit_log.verify(conn)
    if not chain.ok:
        return chain
    if checkpoint.seq == 0:
        return chain
    if chain.entries < checkpoint.seq:
        return AuditVerification(
            False,
            chain.entries,
            chain.entries + 1,
            f"the log ends at entry {chain.entries}, but the checkpoint signed on {checkpoint.signed_at} "
            f"records {checkpoint.seq} entries: entries {chain.entries + 1} to {checkpoint.seq} were removed",
        )
    stored = conn.execute(
        sa.select(audit_table.c.hash).where(audit_table.c.seq == checkpoint.seq)
    ).scalar_one()
    if stored != checkpoint.head_hash:
        return AuditVerification(
            False,
            chain.entries,
            checkpoint.seq,
            f"entry {checkpoint.seq} no longer has the hash the checkpoint signed on {checkpoint.signed_at} "
            f"records: the log was rewritten at or before entry {checkpoint.seq} and its chain rebuilt",
        )
    return chain


def _public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

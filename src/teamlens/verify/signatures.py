"""Keys, signed statements and their checks: the one definition the server and the verifier share.

A party's key is a :class:`PartyKey`: an Ed25519 key file made on the party's own machine
(``kind = "ed25519"``, the raw public key as hex) or a passkey made in the party's browser
(``kind = "passkey"``, its public key as PEM, with the relying party and origin it signs for).
Its fingerprint is the SHA-256 of its public key in DER (SubjectPublicKeyInfo), printed in
groups of four so people can read it aloud and compare it with the notice.

A statement is a JSON object (a decision, or a key set); the signed bytes are its canonical JSON
(:func:`canonical_json`). An Ed25519 key signs those bytes. A passkey signs a WebAuthn assertion
whose challenge is the SHA-256 of those bytes: the check is the WebAuthn one (type, challenge,
origin, relying party hash, user present and verified), then the signature over the
authenticator data and the client data's hash. Nothing here trusts the server: it needs only the
statement, the signature and the public key, and imports only the standard library and
``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: The ``context`` of a party's decision; a signature over anything else never passes for one.
DECISION_CONTEXT = "teamlens decision v1"
#: The ``context`` of a key set both parties sign.
KEY_SET_CONTEXT = "teamlens key set v1"
#: Who may hold a key: the two parties to a policy, and the DPO (rights requests).
KEY_PARTIES = ("employer", "representative", "dpo")
#: The WebAuthn flags a passkey signature must carry: user present (0x01) and verified (0x04).
_USER_PRESENT, _USER_VERIFIED = 0x01, 0x04


def canonical_json(value: object) -> str:
    """Spell ``value`` as the one JSON text that hashes and signatures are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def statement_bytes(statement: Mapping[str, object]) -> bytes:
    """The exact bytes a signature over ``statement`` covers."""
    return canonical_json(dict(statement)).encode("utf-8")


def statement_digest(statement: Mapping[str, object]) -> str:
    """The SHA-256 of a statement's signed bytes, as hex (a key set's name, a passkey's challenge)."""
    return hashlib.sha256(statement_bytes(statement)).hexdigest()


def b64url(data: bytes) -> str:
    """Base64url without padding, as WebAuthn spells bytes."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of a base64url text (padding optional); ValueError when it is not one."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, TypeError) as error:
        raise ValueError("not base64url") from error


def spaced(fingerprint: str) -> str:
    """A fingerprint in groups of four hex digits, for reading aloud."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


@dataclass(frozen=True)
class PartyKey:
    """One party's public key as registered in a key set (see the module docstring)."""

    party: str
    kind: str
    public_key: str
    label: str
    rp_id: str = ""
    origin: str = ""
    credential_id: str = ""

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the public key's DER SubjectPublicKeyInfo, as 64 hex digits."""
        der = self._loaded().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).hexdigest()

    def _loaded(self) -> Any:
        if self.kind == "ed25519":
            return Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))
        if self.kind == "passkey":
            return serialization.load_pem_public_key(self.public_key.encode("ascii"))
        raise ValueError(f"unknown key kind {self.kind!r}")

    def to_json(self) -> dict[str, str]:
        """The key as its key set lists it."""
        data = {"party": self.party, "kind": self.kind, "public_key": self.public_key, "label": self.label}
        if self.kind == "passkey":
            data |= {"rp_id": self.rp_id, "origin": self.origin, "credential_id": self.credential_id}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartyKey:
        """Read a key as a key set lists it; ValueError when a field is missing or malformed."""
        try:
            key = cls(
                **{name: str(data[name]) for name in ("party", "kind", "public_key", "label")},
                **{name: str(data.get(name, "")) for name in ("rp_id", "origin", "credential_id")},
            )
            key.fingerprint  # noqa: B018  (loads the key: a malformed one raises here)
        except (KeyError, TypeError, ValueError, UnsupportedAlgorithm) as error:
            raise ValueError(f"not a party key ({type(error).__name__})") from None
        if key.party not in KEY_PARTIES:
            raise ValueError(f"unknown party {key.party!r}")
        return key

    def signature_problem(self, statement: Mapping[str, object], signature: Mapping[str, Any]) -> str:
        """Why ``signature`` is not this key's signature over ``statement``; "" when it is."""
        message = statement_bytes(statement)
        try:
            if signature.get("kind") != self.kind:
                return f"the signature is a {signature.get('kind')} signature, the key a {self.kind} key"
            if self.kind == "ed25519":
                self._loaded().verify(bytes.fromhex(str(signature["signature"])), message)
                return ""
            return self._assertion_problem(message, signature)
        except (InvalidSignature, KeyError, TypeError, ValueError):
            return "the signature does not verify with the registered key"

    def _assertion_problem(self, message: bytes, signature: Mapping[str, Any]) -> str:
        authenticator_data = unb64url(str(signature["authenticator_data"]))
        client_data_json = unb64url(str(signature["client_data_json"]))
        client = json.loads(client_data_json)
        expected_challenge = b64url(hashlib.sha256(message).digest())
        if not isinstance(client, dict) or client.get("type") != "webauthn.get":
            return "the passkey signature is not an assertion (webauthn.get)"
        if client.get("challenge") != expected_challenge:
            return "the passkey signed another statement (challenge)"
        if client.get("origin") != self.origin:
            return "the passkey signed on another site (origin)"
        if (
            len(authenticator_data) < 37
            or authenticator_data[:32] != hashlib.sha256(self.rp_id.encode("utf-8")).digest()
        ):
            return "the passkey signed for another relying party"
        flags = authenticator_data[32]
        if not flags & _USER_PRESENT or not flags & _USER_VERIFIED:
            return "the passkey signature lacks user presence and verification"
        signed = authenticator_data + hashlib.sha256(client_data_json).digest()
        raw = unb64url(str(signature["signature"]))
        public = self._loaded()
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(raw, signed, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(raw, signed, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, Ed25519PublicKey):
            public.verify(raw, signed)
        else:
            return "the passkey's algorithm is not one teamlens accepts"
        return ""


def ed25519_key(private: Ed25519PrivateKey, party: str, label: str) -> PartyKey:
    """The public half of an Ed25519 key file, as a key set lists it."""
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PartyKey(party, "ed25519", raw.hex(), label)


def sign_ed25519(private: Ed25519PrivateKey, statement: Mapping[str, object]) -> dict[str, str]:
    """An Ed25519 key file's signature over ``statement``, with the key's fingerprint."""
    return {
        "kind": "ed25519",
        "key": ed25519_key(private, "", "").fingerprint,
        "signature": private.sign(statement_bytes(statement)).hex(),
    }

"""Passkeys (WebAuthn): a party's signing key made in their own browser, never on the server.

``registration_options`` starts making a passkey for the signed-in representative (or DPO);
``registered_key`` checks the browser's answer (``webauthn``: challenge, origin, relying party,
user verification) and gives the new key as a ``PartyKey`` to propose in a key set, which both
parties confirm like any other key (``keys``). To sign, ``assertion_options`` asks the browser's
passkey for an assertion whose challenge is the SHA-256 of the statement to sign, and
``assertion_signature`` packs the answer as the signature ``verify.signatures`` checks: the
server never holds anything that could sign in the party's place.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import webauthn
from cryptography.hazmat.primitives import serialization
from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from teamlens.errors import AccessDenied
from teamlens.services.workspace import Workspace
from teamlens.verify import KeySet, PartyKey, b64url, statement_bytes, unb64url


def relying_party(base_url: str) -> tuple[str, str]:
    """The relying party id (the host name) and the origin of the web app at ``base_url``."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    default = {"https": 443, "http": 80}.get(parts.scheme)
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return host, f"{parts.scheme}://{host}{port}"


def registration_options(base_url: str, party: str) -> tuple[str, str]:
    """Options for making a passkey (as JSON for the browser) and the challenge to expect (base64url)."""
    rp_id, _ = relying_party(base_url)
    challenge = secrets.token_bytes(32)
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name="teamlens",
        user_name=f"teamlens {party}",
        user_id=secrets.token_bytes(16),
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
    )
    return webauthn.options_to_json(options), b64url(challenge)


def registered_key(base_url: str, party: str, label: str, credential: str, challenge: str) -> PartyKey:
    """The passkey the browser made, checked; refused (AccessDenied) when any WebAuthn check fails."""
    rp_id, origin = relying_party(base_url)
    try:
        verified = webauthn.verify_registration_response(
            credential=json.loads(credential),
            expected_challenge=unb64url(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
        public = decoded_public_key_to_cryptography(
            decode_credential_public_key(verified.credential_public_key)
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise AccessDenied(
            f"The passkey was not registered: the browser's answer failed a check ({type(error).__name__}).",
            "Try again from the representative's page.",
        ) from None
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return PartyKey(
        party, "passkey", pem.decode("ascii"), label, rp_id, origin, b64url(verified.credential_id)
    )


def passkeys_of(ws: Workspace, party: str, *, pending: KeySet | None = None) -> list[PartyKey]:
    """The party's passkeys in the key set in force (or in ``pending``, a set being confirmed)."""
    keys = pending or ws.governance.registered_keys()
    return [] if keys is None else [k for k in keys.of(party) if k.kind == "passkey"]


def assertion_options(base_url: str, statement: Mapping[str, Any], keys: list[PartyKey]) -> str:
    """Options asking one of ``keys`` to sign ``statement`` (challenge: its SHA-256), as JSON."""
    rp_id, _ = relying_party(base_url)
    if not keys:
        raise AccessDenied(
            "You have no passkey registered to sign with.", "Register one first on the representative's page."
        )
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        challenge=hashlib.sha256(statement_bytes(statement)).digest(),
        allow_credentials=[PublicKeyCredentialDescriptor(id=unb64url(k.credential_id)) for k in keys],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return webauthn.options_to_json(options)


def assertion_signature(credential: str, keys: list[PartyKey]) -> dict[str, str]:
    """The browser's assertion as a signature ``verify.signatures`` checks, naming the key that made it."""
    try:
        answer = json.loads(credential)
        key = next(k for k in keys if k.credential_id == str(answer["rawId"]).rstrip("="))
        response = answer["response"]
        return {
            "kind": "passkey",
            "key": key.fingerprint,
            "authenticator_data": str(response["authenticatorData"]),
            "client_data_json": str(response["clientDataJSON"]),
            "signature": str(response["signature"]),
        }
    except (ValueError, KeyError, TypeError, StopIteration):
        raise AccessDenied(
            "The passkey's answer is not an assertion by one of your registered passkeys.",
            "Try again, with a passkey registered on the representative's page.",
        ) from None


#: The ``context`` of the statement a passkey signs to prove a second factor at sign-in.
SECOND_FACTOR_CONTEXT = "teamlens second factor v1"


def second_factor_statement(now: str) -> dict[str, str]:
    """A fresh statement for a passkey to sign as the second factor of a sign-in."""
    return {"context": SECOND_FACTOR_CONTEXT, "at": now, "nonce": secrets.token_hex(16)}


def second_factor_problem(
    keys: list[PartyKey], statement: Mapping[str, Any], signature: Mapping[str, str]
) -> str:
    """Why this assertion does not prove the second factor; "" when one of ``keys`` signed ``statement``."""
    key = next((k for k in keys if k.fingerprint == signature.get("key")), None)
    if key is None or statement.get("context") != SECOND_FACTOR_CONTEXT:
        return "the passkey is not one registered for this role"
    return key.signature_problem(statement, signature)

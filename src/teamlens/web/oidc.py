"""OpenID Connect, authorization-code flow with PKCE: the client side of worker sign-in.

:class:`IdentityProvider` reads the provider's discovery document
(``{issuer}/.well-known/openid-configuration``), builds the authorization URL (``state``,
``nonce`` and an S256 code challenge), exchanges the code at the token endpoint with the client
secret, and verifies the ID token against the provider's published keys (JWKS): an RS256 or
ES256 signature by a published key (never ``none``, never a shared-secret HS* algorithm), the
issuer, the audience, ``exp`` and ``iat`` with a minute's leeway, and the nonce. The identity is
the worker's e-mail address from the configured claim (then ``preferred_username``, then ``upn``,
as Entra ID sends them), lower-cased; ``email_verified: false`` and domains outside the allowed
list are refused. Every refusal is an ``AccessDenied`` whose message names the check that failed
and never a claim's value; a provider that cannot be reached or describes itself wrongly is a
``ConfigError``. HTTP goes through ``httpx`` with an injectable transport, so tests replay a
provider.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import jwt

from teamlens.errors import AccessDenied, ConfigError
from teamlens.services import SignInConfig

#: Signature algorithms accepted on ID tokens, with the key type (and curve) each needs.
ACCEPTED_ALGORITHMS: Mapping[str, tuple[str, str | None]] = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}
LEEWAY_SECONDS = 60
_METADATA_SECONDS = 3600
_KEY_REFRESH_SECONDS = 60  # a token naming an unknown key refetches the JWKS at most this often
_TIMEOUT = httpx.Timeout(10.0)
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class LoginAttempt:
    """The secrets of one sign-in attempt, kept in the browser's signed cookie until the callback."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> LoginAttempt:
        """Fresh random ``state``, ``nonce`` and PKCE code verifier (256 bits each)."""
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48))

    @property
    def code_challenge(self) -> str:
        """The S256 PKCE challenge: base64url(SHA-256(verifier)) without padding (RFC 7636)."""
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _refused(check: str) -> AccessDenied:
    return AccessDenied(f"Sign-in refused: {check}.", "Sign in again from the start: /auth/login.")


class IdentityProvider:
    """The organisation's OpenID Connect provider, as the web app's client sees it."""

    def __init__(self, config: SignInConfig, transport: httpx.BaseTransport | None = None) -> None:
        self._config = config
        self._transport = transport
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: list[dict[str, Any]] = []
        self._keys_at = 0.0

    def authorization_url(self, attempt: LoginAttempt, *, step_up: bool = False) -> str:
        """Where to send the browser to sign in (``step_up``: make the provider ask again, with MFA)."""
        query = {
            "response_type": "code",
            "client_id": self._config.client_id,
            "redirect_uri": self._config.redirect_uri,
            "scope": "openid email profile",
            "state": attempt.state,
            "nonce": attempt.nonce,
            "code_challenge": attempt.code_challenge,
            "code_challenge_method": "S256",
        }
        if step_up:
            query |= {"prompt": "login", "max_age": "0"}
            if self._config.mfa_acr:
                query["acr_values"] = " ".join(self._config.mfa_acr)
        endpoint = self._endpoint("authorization_endpoint")
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    def identify(self, code: str, attempt: LoginAttempt) -> tuple[str, dict[str, Any]]:
        """Exchange ``code`` for an ID token, verify it; the address (lower-case) and the token's claims."""
        claims = self._verify(self._exchange(code, attempt), attempt.nonce)
        return self._address(claims), claims

    # -- HTTP ----------------------------------------------------------------------------------

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            with httpx.Client(transport=self._transport, timeout=_TIMEOUT) as http:
                response = http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            raise ConfigError(
                f"The identity provider's {what} could not be read from {url}.",
                "Check TEAMLENS_OIDC_ISSUER and that this server can reach the provider.",
            ) from None
        if not isinstance(document, dict):
            raise ConfigError(f"The identity provider's {what} at {url} is not a JSON object.")
        return document

    def _discovery(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > _METADATA_SECONDS:
            issuer = self._config.issuer
            metadata = self._get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration", "discovery")
            if metadata.get("issuer") != issuer:
                raise ConfigError(
                    "The identity provider's discovery document names another issuer than "
                    "TEAMLENS_OIDC_ISSUER.",
                    "Set TEAMLENS_OIDC_ISSUER to the provider's issuer exactly (for Entra ID: "
                    "https://login.microsoftonline.com/TENANT-ID/v2.0).",
                )
            methods = metadata.get("code_challenge_methods_supported")
            if isinstance(methods, list) and "S256" not in methods:
                raise ConfigError("The identity provider does not support PKCE with S256.")
            self._metadata, self._metadata_at = metadata, time.monotonic()
        return self._metadata

    def _endpoint(self, name: str) -> str:
        url = self._discovery().get(name)
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or not (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
        ):
            raise ConfigError(f"The identity provider's discovery document has no https {name}.")
        return str(url)

    def _exchange(self, code: str, attempt: LoginAttempt) -> str:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._config.redirect_uri,
            "code_verifier": attempt.code_verifier,
        }
        auth: httpx.Auth | None = None
        methods = self._discovery().get("token_endpoint_auth_methods_supported")
        if not isinstance(methods, list):
            methods = ["client_secret_basic"]  # the default when a provider does not say (RFC 8414)
        if "client_secret_basic" in methods:  # RFC 6749 §2.3.1: both parts form-encoded first
            auth = httpx.BasicAuth(
                quote(self._config.client_id, safe=""), quote(self._config.client_secret, safe="")
            )
        else:
            form |= {"client_id": self._config.client_id, "client_secret": self._config.client_secret}
        try:
            with httpx.Client(transport=self._transport, timeout=_TIMEOUT, auth=auth) as http:
                response = http.post(self._endpoint("token_endpoint"), data=form)
            body = response.json()
        except (httpx.HTTPError, ValueError):
            raise _refused("the identity provider's token endpoint did not answer") from None
        token = body.get("id_token") if isinstance(body, dict) and response.status_code == 200 else None
        if not isinstance(token, str):
            raise _refused("the identity provider did not accept the sign-in code")
        return token

    # -- the ID token --------------------------------------------------------------------------

    def _verify(self, token: str, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _refused("the identity token is malformed") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ACCEPTED_ALGORITHMS:
            raise _refused("the identity token is not signed with RS256 or ES256")
        claims = None
        for key in self._keys_for(header.get("kid"), algorithm):
            try:
                claims = jwt.decode(
                    token,
                    key=jwt.PyJWK(key, algorithm=algorithm),
                    algorithms=[algorithm],
                    audience=self._config.client_id,
                    issuer=self._config.issuer,
                    leeway=LEEWAY_SECONDS,
                    options={
                        "require": ["exp", "iat", "iss", "aud", "sub"],
                        "enforce_minimum_key_length": True,
                    },
                )
                break
            except jwt.InvalidSignatureError:
                continue  # another published key may have signed it
            except jwt.PyJWTError as problem:
                raise _refused(_CHECKS.get(type(problem), "the identity token is not valid")) from None
        if claims is None:
            raise _refused("the identity token's signature does not match the provider's keys")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != self._config.client_id:
            raise _refused("the identity token was issued to another application")
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
            raise _refused("the identity token belongs to another sign-in attempt (nonce)")
        return claims

    def _keys_for(self, kid: object, algorithm: str) -> list[dict[str, Any]]:
        """The published keys that could have signed a token with this ``kid`` and algorithm."""
        kty, curve = ACCEPTED_ALGORITHMS[algorithm]

        def matching() -> list[dict[str, Any]]:
            return [
                key
                for key in self._keys
                if key.get("kty") == kty
                and (curve is None or key.get("crv") == curve)
                and key.get("use", "sig") == "sig"
                and key.get("alg", algorithm) == algorithm
                and (kid is None or key.get("kid") == kid)
            ]

        found = matching()
        if not found and time.monotonic() - self._keys_at > _KEY_REFRESH_SECONDS:
            published = self._get_json(self._endpoint("jwks_uri"), "signing keys (JWKS)").get("keys")
            self._keys = [key for key in published or [] if isinstance(key, dict)]
            self._keys_at = time.monotonic()
            found = matching()
        return found

    def _address(self, claims: Mapping[str, Any]) -> str:
        verified = claims.get("email_verified")
        if verified is False or (isinstance(verified, str) and verified.lower() == "false"):
            raise _refused("the identity provider says the e-mail address is not verified")
        address = next(
            (
                value.strip().lower()
                for value in (claims.get(name) for name in self._config.email_claims)
                if isinstance(value, str) and "@" in value
            ),
            None,
        )
        if address is None:
            names = ", ".join(self._config.email_claims)
            raise _refused(f"the identity token carries no e-mail address (looked in {names})")
        allowed = self._config.allowed_domains
        if allowed and address.rpartition("@")[2] not in allowed:
            raise _refused("this account's domain is not one allowed to sign in here")
        return address


#: The check each PyJWT refusal stands for (the message never repeats a claim's value).
_CHECKS: Mapping[type[Exception], str] = {
    jwt.ExpiredSignatureError: "the identity token has expired",
    jwt.ImmatureSignatureError: "the identity token is not valid yet",
    jwt.InvalidIssuedAtError: "the identity token's issue time is not valid",
    jwt.InvalidAudienceError: "the identity token was issued to another application (audience)",
    jwt.InvalidIssuerError: "the identity token was issued by another issuer",
    jwt.MissingRequiredClaimError: "the identity token lacks a required claim",
    jwt.InvalidAlgorithmError: "the identity token's algorithm does not match the provider's key",
    jwt.InvalidKeyError: "the provider's signing key is not acceptable",
}

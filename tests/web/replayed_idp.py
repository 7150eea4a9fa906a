"""An OpenID Connect provider replayed in-process for the sign-in tests.

It serves discovery, a JWKS and a token endpoint through ``httpx.MockTransport``, with an RSA key
generated here. The token endpoint checks what a real provider checks (client authentication,
the redirect URI, the PKCE verifier against the challenge the login sent) and answers with an ID
token for the worker the test "signed in" — with any claim, header or key a test wants to
break.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

ISSUER = "https://idp.example.net/tenant-1/v2.0"
CLIENT_ID = "teamlens-client"
CLIENT_SECRET = "s3cret/with+odd:chars"  # noqa: S105  (a test secret, exercising RFC 6749 encoding)
BASE_URL = "https://teamlens.example.org"
KID = "signing-key-1"
EC_KID = "signing-key-ec"
DROP = object()  # a claim override that removes the claim


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    """One authorization the replayed user gave: who, for which login, and how to break the token."""

    email: str
    nonce: str
    challenge: str
    redirect_uri: str
    claims: dict[str, Any]
    headers: dict[str, Any]
    key: Any
    algorithm: str


def forge_hs256(claims: dict[str, Any], headers: dict[str, Any], secret: bytes) -> str:
    """An HS256 token with ``secret`` as the HMAC key (the key-confusion attack uses the public key)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT", **headers}).encode())
    body = part(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(mac)}"


@dataclass
class ReplayedProvider:
    """Discovery, JWKS and token endpoint of a provider at ``ISSUER``.

    ``ec_key``, when given, is published too (as ``EC_KID``) so ES256 tokens can be tried.
    """

    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    ec_key: ec.EllipticCurvePrivateKey | None = None
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        """The transport the app's provider client is given."""
        return httpx.MockTransport(self._handle)

    def jwk(self) -> dict[str, Any]:
        """The public signing key as a JWK."""
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**data, "kid": KID, "use": "sig", "alg": "RS256"}

    def public_pem(self) -> bytes:
        """The public key in PEM (for the HS256 key-confusion attack)."""
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def authorize(
        self,
        login_location: str,
        email: str,
        *,
        claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        key: Any = None,
        algorithm: str = "RS256",
    ) -> str:
        """The user signs in at the provider; returns the code the provider would redirect with."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(login_location).query).items()}
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            email=email,
            nonce=query["nonce"],
            challenge=query["code_challenge"],
            redirect_uri=query["redirect_uri"],
            claims=claims or {},
            headers=headers or {},
            key=self.key if key is None else key,
            algorithm=algorithm,
        )
        return code

    def id_token(self, grant: Grant) -> str:
        """The ID token for ``grant``, with the grant's overrides applied."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "email": grant.email,
            "email_verified": True,
        }
        claims.update(grant.claims)
        claims = {k: v for k, v in claims.items() if v is not DROP}
        headers = {"kid": KID, **grant.headers}
        if grant.algorithm == "HS256":  # PyJWT will not HMAC with a PEM key: forge it by hand
            return forge_hs256(claims, headers, grant.key)
        return jwt.encode(claims, grant.key, algorithm=grant.algorithm, headers=headers)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/tenant-1/v2.0/.well-known/openid-configuration":
            return httpx.Response(200, json=self.discovery())
        if path == "/tenant-1/v2.0/keys":
            keys = [self.jwk()]
            if self.ec_key is not None:
                data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec_key.public_key()))
                keys.append({**data, "kid": EC_KID, "use": "sig"})
            return httpx.Response(200, json={"keys": keys})
        if path == "/tenant-1/oauth2/v2.0/token" and request.method == "POST":
            self.token_requests.append(request)
            return self._token(request)
        return httpx.Response(404)

    @staticmethod
    def discovery() -> dict[str, Any]:
        """The discovery document."""
        return {
            "issuer": ISSUER,
            "authorization_endpoint": "https://idp.example.net/tenant-1/oauth2/v2.0/authorize",
            "token_endpoint": "https://idp.example.net/tenant-1/oauth2/v2.0/token",
            "jwks_uri": "https://idp.example.net/tenant-1/v2.0/keys",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        expected = "Basic " + base64.b64encode(b"teamlens-client:s3cret%2Fwith%2Bodd%3Achars").decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        grant = self.grants.pop(form.get("code", ""), None)  # a code is good once
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant.redirect_uri
            or challenge != grant.challenge
        ):
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(
            200, json={"id_token": self.id_token(grant), "access_token": "opaque", "token_type": "Bearer"}
        )


def start_login(client: TestClient) -> str:
    """Follow the app's login to the provider; returns the provider URL the browser is sent to."""
    response = client.get("/auth/login", follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"]


def state_of(location: str) -> str:
    """The ``state`` the login sent to the provider."""
    return parse_qs(urlsplit(location).query)["state"][0]


def sign_in(client: TestClient, idp: ReplayedProvider, email: str, **breakage: Any) -> Any:
    """The whole sign-in as a browser does it; returns the callback's response."""
    location = start_login(client)
    code = idp.authorize(location, email, **breakage)
    return client.get(f"/auth/callback?code={code}&state={state_of(location)}", follow_redirects=False)

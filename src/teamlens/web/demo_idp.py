"""A DEMO-ONLY OpenID Connect identity provider on 127.0.0.1, for ``make demo`` and the browser tests.

It lets anyone "sign in" as any address they type, with or without a second factor: exactly what
a demonstration needs and what a real installation must never have. So it is never started by
``teamlens serve``: only ``teamlens demo-serve`` starts it, and only for a folder ``teamlens demo``
built (``services.demo.DEMO_MARKER``), bound to the loopback interface, and every page it shows says
DEMO ONLY. It speaks the real protocol — discovery, authorization with PKCE (S256), a token
endpoint with client authentication, RS256 ID tokens with ``nonce`` and ``amr``, a JWKS — so the
web app signs in against it exactly as against Entra ID or Okta.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

_BANNER = "DEMO ONLY — a test identity provider: anyone can sign in as anyone. Never use it for real."


@dataclass
class _Grant:
    email: str
    mfa: bool
    nonce: str
    challenge: str
    redirect_uri: str


@dataclass
class DemoIdentityProvider:
    """The provider: ``start()`` it, point ``TEAMLENS_OIDC_ISSUER`` at ``issuer``, ``stop()`` it."""

    client_id: str = "teamlens-demo"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    port: int = 0
    people: tuple[tuple[str, str], ...] = ()  # (label, address) offered as one-click choices
    _key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        """The issuer URL (http on the loopback interface)."""
        if self._server is None:
            raise RuntimeError("start the demo identity provider first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> DemoIdentityProvider:
        """Listen on 127.0.0.1 in a background thread."""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider._get(self)

            def do_POST(self) -> None:
                provider._post(self)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the demo prints what matters

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- endpoints -------------------------------------------------------------------------------

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        path, query = urlsplit(request.path).path, parse_qs(urlsplit(request.path).query)
        if path == "/.well-known/openid-configuration":
            self._json(request, 200, self._discovery())
        elif path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
            self._json(request, 200, {"keys": [{**jwk, "kid": "demo", "use": "sig", "alg": "RS256"}]})
        elif path == "/authorize":
            self._page(request, {name: values[0] for name, values in query.items()})
        else:
            self._json(request, 404, {"error": "not_found"})

    def _post(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length", "0") or 0)
        form = {k: v[0] for k, v in parse_qs(request.rfile.read(min(length, 65536)).decode()).items()}
        path = urlsplit(request.path).path
        if path == "/authorize":
            self._authorize(request, form)
        elif path == "/token":
            self._token(request, form)
        else:
            self._json(request, 404, {"error": "not_found"})

    def _discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def _page(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        carried = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
            if k in ("client_id", "redirect_uri", "state", "nonce", "code_challenge")
        )
        choices = "".join(
            f"<li>{html.escape(label)}: <code>{html.escape(address)}</code></li>"
            for label, address in self.people
        )
        body = (
            f"<!doctype html><title>DEMO identity provider</title><h1 style='color:#b42318'>{_BANNER}</h1>"
            f"<form method='post' action='/authorize'>{carried}"
            "<p><label>Sign in as (any address) <input name='email' id='email' size='40' required>"
            "</label></p>"
            "<p><label><input type='checkbox' name='mfa' id='mfa' value='1'> with a second factor "
            "(the privileged roles need it)</label></p><p><button id='sign-in'>Sign in</button></p></form>"
            f"<p>Demo people:</p><ul>{choices}</ul>"
        )
        self._send(request, 200, "text/html; charset=utf-8", body.encode())

    def _authorize(self, request: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        if form.get("client_id") != self.client_id or not form.get("code_challenge") or not form.get("email"):
            self._json(request, 400, {"error": "invalid_request"})
            return
        code = secrets.token_urlsafe(16)
        self._grants[code] = _Grant(
            form["email"].strip().lower(),
            form.get("mfa") == "1",
            form.get("nonce", ""),
            form["code_challenge"],
            form.get("redirect_uri", ""),
        )
        location = (
            f"{form.get('redirect_uri', '')}?{urlencode({'code': code, 'state': form.get('state', '')})}"
        )
        request.send_response(303)
        request.send_header("Location", location)
        request.end_headers()

    def _token(self, request: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        grant = self._grants.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            self._json(request, 401, {"error": "invalid_client"})
            return
        if grant is None or challenge != grant.challenge or form.get("redirect_uri") != grant.redirect_uri:
            self._json(request, 400, {"error": "invalid_grant"})
            return
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": hashlib.sha256(grant.email.encode()).hexdigest(),
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "email": grant.email,
            "email_verified": True,
            "amr": ["pwd", "mfa"] if grant.mfa else ["pwd"],
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": "demo"})
        self._json(request, 200, {"id_token": token, "token_type": "Bearer", "access_token": "demo"})

    def _json(self, request: BaseHTTPRequestHandler, status: int, data: dict[str, Any]) -> None:
        self._send(request, status, "application/json", json.dumps(data).encode())

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, kind: str, body: bytes) -> None:
        request.send_response(status)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

"""Server-side sessions that can be revoked, the signed sign-in attempt, and the CSRF token.

The session cookie holds only a random token; the governance database keeps its SHA-256 with the
worker's pseudonym sealed (AES-GCM) under a key derived from the token, their roles and when
their second factor was last proved (``services``): the table alone links no one to the times
they were signed in, or so to a view they gave. A
session ends when the worker signs out (revoked), after ``IDLE_SECONDS`` unused or
``ABSOLUTE_SECONDS`` after sign-in, and at once when the roles file changes. Signing in again
replaces the browser's session with a new token (no fixation).

The sign-in attempt in flight (``state``, ``nonce``, PKCE verifier) is a signed ten-minute cookie:
``base64url(JSON) "." base64url(HMAC-SHA-256)`` under the session secret, which lives outside the
data folder, with the cookie's purpose mixed into the MAC. A form's CSRF token is an HMAC of its
session's token hash. Cookies are HttpOnly, SameSite=Lax, and Secure with the ``__Host-`` prefix
unless the app is served over plain HTTP on the loopback interface.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request, Response

from teamlens import services
from teamlens.web.oidc import LoginAttempt

IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 8 * 3600
#: How recent a sign-in or second factor must be for an export or a decision (step-up).
STEP_UP_SECONDS = 5 * 60
LOGIN_SECONDS = 600
_TOUCH_SECONDS = 60  # the last-used time is written at most this often


@dataclass(frozen=True)
class Session:
    """A live session: who (by pseudonym), their roles, when it began and its second factor was proved."""

    token_hash: str
    worker: services.SignedInWorker
    roles: frozenset[services.Role]
    created_at: dt.datetime
    second_factor_at: dt.datetime | None
    pending: str | None

    def fresh(self, now: dt.datetime) -> bool:
        """Whether the worker signed in or proved a second factor in the last ``STEP_UP_SECONDS``."""
        last = max(self.created_at, self.second_factor_at or self.created_at)
        return (now - last).total_seconds() <= STEP_UP_SECONDS


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Seals and opens signed, expiring values under the session secret."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}.{body}".encode("ascii"), hashlib.sha256).digest())

    def seal(self, purpose: str, data: dict[str, Any], lifetime: int) -> str:
        """``data`` with an expiry ``lifetime`` seconds from now, signed for ``purpose``."""
        payload = json.dumps(
            {**data, "exp": int(time.time()) + lifetime}, separators=(",", ":"), sort_keys=True
        )
        body = _b64(payload.encode("utf-8"))
        return f"{body}.{self._mac(purpose, body)}"

    def open(self, purpose: str, value: str | None) -> dict[str, Any] | None:
        """The data sealed in ``value`` for ``purpose``; None if forged, altered, malformed or expired."""
        if not value or not value.isascii() or value.count(".") != 1:
            return None  # a cookie header is read as Latin-1: bytes outside ASCII are no cookie of ours
        body, mac = value.split(".")
        if not hmac.compare_digest(mac.encode("ascii"), self._mac(purpose, body).encode("ascii")):
            return None
        try:
            data = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("exp"), int) or data["exp"] <= time.time():
            return None
        return data

    def csrf_token(self, session: Session) -> str:
        """The token a form of this session must send back."""
        return self._mac("csrf", session.token_hash)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _sealing_key(token: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"teamlens session seal|" + token.encode("ascii", "replace")).digest())


def _seal(token: str, pseudonym: str) -> str:
    nonce = secrets.token_bytes(12)
    return _b64(nonce + _sealing_key(token).encrypt(nonce, pseudonym.encode("utf-8"), None))


def _unseal(token: str, sealed: str) -> str | None:
    try:
        raw = _unb64(sealed)
        return _sealing_key(token).decrypt(raw[:12], raw[12:], None).decode("utf-8")
    except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
        return None


class Cookies:
    """Reads and writes the session and sign-in cookies of one installation."""

    def __init__(self, signer: Signer, ws: services.Workspace, *, secure: bool) -> None:
        self.signer = signer
        self._ws = ws
        self._secure = secure
        prefix = "__Host-" if secure else ""
        self.session_name = f"{prefix}teamlens_session"
        self.login_name = f"{prefix}teamlens_login"

    def _set(self, response: Response, name: str, value: str, lifetime: int) -> None:
        response.set_cookie(
            name, value, max_age=lifetime, path="/", secure=self._secure, httponly=True, samesite="lax"
        )

    def _clear(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self._secure, httponly=True, samesite="lax")

    def session(self, request: Request) -> Session | None:
        """The request's live session, or None (no cookie, unknown, revoked, timed out, roles changed)."""
        token = request.cookies.get(self.session_name)
        if not token or not token.isascii() or len(token) > 100:
            return None
        token_hash = _token_hash(token)
        stored = self._ws.governance.session(token_hash)
        if stored is None:
            return None
        now = self._ws.governance.now()
        idle = (now - stored.seen_at).total_seconds() > IDLE_SECONDS
        expired = (now - stored.created_at).total_seconds() > ABSOLUTE_SECONDS
        if idle or expired or stored.roles_sha256 != services.role_map(self._ws).sha256:
            self._ws.governance.revoke_sessions(token_hash)
            return None
        pseudonym = _unseal(token, stored.sealed_worker)
        if pseudonym is None:
            return None
        if (now - stored.seen_at).total_seconds() > _TOUCH_SECONDS:
            self._ws.governance.touch_session(token_hash)
        roles = frozenset(services.Role(role) for role in stored.roles)
        worker = services.SignedInWorker(pseudonym)
        return Session(token_hash, worker, roles, stored.created_at, stored.second_factor_at, stored.pending)

    def start_session(self, request: Request, response: Response, signed_in: services.SignedIn) -> None:
        """Sign in on this browser with a new token, revoking any session it had (no fixation)."""
        old = request.cookies.get(self.session_name)
        if old and old.isascii():
            self._ws.governance.revoke_sessions(_token_hash(old))
        token = secrets.token_urlsafe(32)
        roles = ",".join(sorted(role.value for role in signed_in.roles))
        self._ws.governance.start_session(
            _token_hash(token),
            _seal(token, signed_in.worker.pseudonym),
            roles,
            signed_in.roles_sha256,
            signed_in.mfa,
        )
        self._set(response, self.session_name, token, ABSOLUTE_SECONDS)

    def end_session(self, request: Request, response: Response) -> None:
        """Sign out on this browser: the session is revoked on the server and its cookie removed."""
        token = request.cookies.get(self.session_name)
        if token and token.isascii():
            self._ws.governance.revoke_sessions(_token_hash(token))
        self._clear(response, self.session_name)

    def login_attempt(self, request: Request) -> LoginAttempt | None:
        """The sign-in attempt this browser started, if its cookie is intact and recent."""
        data = self.signer.open("login", request.cookies.get(self.login_name))
        fields = ("state", "nonce", "verifier")
        if data is None or not all(isinstance(data.get(name), str) for name in fields):
            return None
        return LoginAttempt(data["state"], data["nonce"], data["verifier"])

    def remember_attempt(self, response: Response, attempt: LoginAttempt) -> None:
        """Keep the attempt's secrets in the browser until the provider sends it back."""
        data = {"state": attempt.state, "nonce": attempt.nonce, "verifier": attempt.code_verifier}
        self._set(response, self.login_name, self.signer.seal("login", data, LOGIN_SECONDS), LOGIN_SECONDS)

    def forget_attempt(self, response: Response) -> None:
        """The attempt is used up (or refused): it cannot be replayed."""
        self._clear(response, self.login_name)

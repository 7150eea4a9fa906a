"""Signed cookies: the worker's session, the sign-in attempt in flight, and the CSRF token.

A cookie's value is ``base64url(JSON) "." base64url(HMAC-SHA-256)`` under the installation's
session key, with the cookie's purpose mixed into the MAC so one kind cannot stand in for
another. The session holds the worker's pseudonym (never their address), a random session id and
its expiry (one hour); the sign-in attempt holds ``state``, ``nonce`` and the PKCE verifier for
ten minutes. The CSRF token of a session is an HMAC of its id, so it needs no storage. Cookies
are HttpOnly, SameSite=Lax, and Secure with the ``__Host-`` prefix unless the app is served over
plain HTTP on the loopback interface.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from teamlens.services import SignedInWorker
from teamlens.web.oidc import LoginAttempt

SESSION_SECONDS = 3600
LOGIN_SECONDS = 600


@dataclass(frozen=True)
class WorkerSession:
    """A verified session: who is signed in (by pseudonym), its id and when it ends (Unix time)."""

    worker: SignedInWorker
    session_id: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Seals and opens signed, expiring values under one key."""

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

    def csrf_token(self, session: WorkerSession) -> str:
        """The token a form of this session must send back."""
        return self._mac("csrf", session.session_id)


class Cookies:
    """Reads and writes the session and sign-in cookies of one installation."""

    def __init__(self, signer: Signer, *, secure: bool) -> None:
        self.signer = signer
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

    def session(self, request: Request) -> WorkerSession | None:
        """The request's verified session, or None (no cookie, a forged or altered one, or expired)."""
        data = self.signer.open("session", request.cookies.get(self.session_name))
        if data is None or not isinstance(data.get("sub"), str) or not isinstance(data.get("sid"), str):
            return None
        return WorkerSession(SignedInWorker(data["sub"]), data["sid"], data["exp"])

    def start_session(self, response: Response, worker: SignedInWorker) -> None:
        """Sign ``worker`` in on this browser for an hour."""
        sealed = self.signer.seal(
            "session", {"sub": worker.pseudonym, "sid": secrets.token_urlsafe(16)}, SESSION_SECONDS
        )
        self._set(response, self.session_name, sealed, SESSION_SECONDS)

    def end_session(self, response: Response) -> None:
        """Sign out on this browser."""
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

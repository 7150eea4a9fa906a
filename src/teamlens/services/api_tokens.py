"""Analysts' personal API tokens: a bearer credential for the read-only HTTP API, and nothing else.

An analyst signed in with their second factor makes a token on ``/tokens`` (the web app),
names it, and picks how long it lives (``LIFETIMES_DAYS``); the token is shown once and only
its SHA-256 is kept (``governance.api_tokens``). A script sends it as ``Authorization: Bearer
…`` to the JSON paths under ``/api/`` (released reports, the register, the verified audit
summary) and nowhere else: every other route knows only the session cookie.

A token counts only while all of these hold, checked on every request (``reader``): it is
known and not revoked, it has not expired, and the roles file in force is the one it was made
under. Editing the roles file (so removing the analyst from it) ends every token, as it ends
every web session; tokens made under another roles file are revoked for good the first time
teamlens reads the changed file (``roles.role_map``), so restoring the old file later does
not bring them back. The analyst revokes their own tokens on the same page; ``revoke_all``
(``teamlens api-tokens revoke-all``) is the administrator's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from teamlens.errors import AccessDenied, PolicyError
from teamlens.governance import StoredToken
from teamlens.services.rights import SignedInWorker
from teamlens.services.roles import Role, mapping_approved, role_map
from teamlens.services.workspace import Workspace

#: What every token starts with, so that a leaked one is recognisable (secret scanners, logs).
PREFIX = "tlk_"
#: The lifetimes an analyst may choose, in days; the first is the default.
LIFETIMES_DAYS = (30, 7, 90)
#: The most live tokens one analyst may hold.
MAX_LIVE = 10
MAX_LABEL = 80


@dataclass(frozen=True)
class ApiToken:
    """One of an analyst's tokens as their page lists it (never the token itself)."""

    token_id: str
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime
    expired: bool


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: ``secret`` is shown to the analyst once and kept nowhere."""

    secret: str
    token: ApiToken


def token_hash(secret: str) -> str:
    """The SHA-256 a token is kept and looked up by."""
    return hashlib.sha256(secret.encode("ascii", "replace")).hexdigest()


def owner_key(worker: SignedInWorker) -> str:
    """The key an analyst's tokens are filed under: a hash of their pseudonym, never their address."""
    return owner_of(worker.pseudonym)


def owner_of(pseudonym: str) -> str:
    """The owner key of the tokens of the analyst with this pseudonym (moved by a key rotation)."""
    return hashlib.sha256(b"teamlens api token owner|" + pseudonym.encode("utf-8")).hexdigest()


def _listed(stored: StoredToken, now: dt.datetime) -> ApiToken:
    return ApiToken(
        stored.token_id, stored.label, stored.created_at, stored.expires_at, stored.expires_at <= now
    )


def issue(
    ws: Workspace, worker: SignedInWorker, roles: frozenset[Role], label: str, days: int
) -> IssuedToken:
    """Make a token for an analyst (``roles`` from their live session) living ``days`` days."""
    if Role.ANALYST not in roles:
        raise AccessDenied(
            "Only an analyst can make an API token.", "Ask the administrator for the analyst role."
        )
    label = " ".join(label.split())
    if not label or len(label) > MAX_LABEL or not label.isprintable():
        raise PolicyError(
            f"A token's name must be 1 to {MAX_LABEL} printable characters.",
            "Name it after the script or notebook that will use it.",
        )
    if days not in LIFETIMES_DAYS:
        raise PolicyError(
            f"A token lives {', '.join(str(d) for d in sorted(LIFETIMES_DAYS))} days, not {days}.",
            "Choose one of those lifetimes.",
        )
    if not mapping_approved(ws):
        raise AccessDenied(
            "The roles file in force is not the one both parties approved: no role counts until they "
            "sign it.",
            "Ask the representative and the employer to register the roles file again.",
        )
    owner = owner_key(worker)
    if len(tokens_of(ws, worker)) >= MAX_LIVE:
        raise PolicyError(
            f"You hold {MAX_LIVE} tokens already.", "Revoke one you no longer use before making another."
        )
    now = ws.governance.now().replace(microsecond=0)
    secret = PREFIX + secrets.token_urlsafe(32)
    stored = StoredToken(
        secrets.token_hex(6), owner, label, role_map(ws).sha256, now, now + dt.timedelta(days=days)
    )
    ws.governance.create_api_token(token_hash(secret), stored)
    return IssuedToken(secret, _listed(stored, now))


def tokens_of(ws: Workspace, worker: SignedInWorker) -> list[ApiToken]:
    """An analyst's unrevoked tokens, newest first (expired ones marked)."""
    now = ws.governance.now()
    return [_listed(stored, now) for stored in ws.governance.api_tokens_of(owner_key(worker))]


def revoke(ws: Workspace, worker: SignedInWorker, token_id: str) -> bool:
    """Revoke one of the analyst's own tokens; False if they hold no live token with that id."""
    return ws.governance.revoke_api_tokens(owner=owner_key(worker), token_id=token_id) > 0


def revoke_all(ws: Workspace) -> int:
    """Revoke every API token of the installation; returns how many were live."""
    return ws.governance.revoke_api_tokens()


def reader(ws: Workspace, secret: str) -> bool:
    """Whether ``secret`` is a live token: known, unrevoked, unexpired, made under the roles file in force."""
    if not secret.startswith(PREFIX) or not secret.isascii() or len(secret) > 100:
        return False
    stored = ws.governance.api_token(token_hash(secret))
    if stored is None or stored.expires_at <= ws.governance.now():
        return False
    return stored.roles_sha256 == role_map(ws).sha256

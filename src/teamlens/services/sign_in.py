"""What worker sign-in needs from the installation: its identity-provider settings and secrets.

The web app signs workers in with OpenID Connect and then knows them only by pseudonym. This
module gives it :func:`sign_in_config` (the provider's settings from ``settings.py``, or None
while sign-in is not configured), :func:`session_key` (the secret that signs sign-in attempts and
CSRF tokens, kept outside the data folder) and :func:`sign_in` (who signed in: their pseudonym,
the roles the approved mapping gives them and whether the provider proved a second factor).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from teamlens.errors import ConfigError
from teamlens.services.rights import SignedInWorker, pseudonym_of
from teamlens.services.roles import Role, mapping_approved, role_map
from teamlens.services.workspace import Workspace

log = logging.getLogger(__name__)
SESSION_KEY_BYTES = 32
#: Claims tried for the worker's address after the configured one (Entra ID puts it in these).
FALLBACK_EMAIL_CLAIMS = ("preferred_username", "upn")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_SETTINGS_HINT = (
    "Set TEAMLENS_OIDC_ISSUER, TEAMLENS_OIDC_CLIENT_ID, TEAMLENS_OIDC_CLIENT_SECRET (or "
    "TEAMLENS_OIDC_CLIENT_SECRET_FILE) and TEAMLENS_WEB_BASE_URL; see docs/worker-sign-in.md."
)


@dataclass(frozen=True)
class SignInConfig:
    """The identity provider the web app signs workers in with, and where it sends them back."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    base_url: str
    email_claims: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    mfa_acr: tuple[str, ...] = ()

    @property
    def redirect_uri(self) -> str:
        """Where the provider sends the browser back to (register exactly this URL with it)."""
        return f"{self.base_url}/auth/callback"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure unless the app is served over plain HTTP on the loopback interface."""
        parts = urlsplit(self.base_url)
        return not (parts.scheme == "http" and parts.hostname in _LOOPBACK)


def sign_in_config(ws: Workspace) -> SignInConfig | None:
    """The worker sign-in settings, or None when none is set; half a configuration is an error."""
    s = ws.settings
    issuer, client_id, base_url = s.oidc_issuer, s.oidc_client_id, s.web_base_url
    given = {
        "TEAMLENS_OIDC_ISSUER": issuer,
        "TEAMLENS_OIDC_CLIENT_ID": client_id,
        "TEAMLENS_OIDC_CLIENT_SECRET": s.oidc_client_secret or s.oidc_client_secret_file,
        "TEAMLENS_WEB_BASE_URL": base_url,
    }
    missing = [name for name, value in given.items() if not value]
    if len(missing) == len(given):
        return None
    if missing or not issuer or not client_id or not base_url:
        raise ConfigError(f"Worker sign-in is half configured: {', '.join(missing)} not set.", _SETTINGS_HINT)
    claims = dict.fromkeys([s.oidc_email_claim.strip() or "email", *FALLBACK_EMAIL_CLAIMS])
    domains = (s.oidc_allowed_domains or "").split(",")
    return SignInConfig(
        issuer=_url("TEAMLENS_OIDC_ISSUER", issuer, keep_slash=True),
        client_id=client_id.strip(),
        client_secret=_client_secret(s.oidc_client_secret, s.oidc_client_secret_file),
        base_url=_url("TEAMLENS_WEB_BASE_URL", base_url),
        email_claims=tuple(claims),
        allowed_domains=tuple(d.strip().lower().lstrip("@") for d in domains if d.strip()),
        mfa_acr=tuple(v.strip() for v in (s.oidc_mfa_acr or "").split(",") if v.strip()),
    )


def _url(name: str, value: str, *, keep_slash: bool = False) -> str:
    """An https URL (or http on the loopback interface, for trying it out).

    An issuer is kept exactly as given (tokens must name it exactly; some end in a slash); the
    base URL loses its trailing slash.
    """
    parts = urlsplit(value.strip())
    loopback_http = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not parts.hostname or (parts.scheme != "https" and not loopback_http) or parts.query or parts.fragment:
        raise ConfigError(
            f"{name} must be an https:// URL without query or fragment (got {value!r}).",
            "Plain http:// is accepted only for localhost or 127.0.0.1, to try sign-in out.",
        )
    return value.strip() if keep_slash else value.strip().rstrip("/")


def _client_secret(secret: SecretStr | None, secret_file: Path | None) -> str:
    if secret is not None and secret_file is not None:
        raise ConfigError(
            "Both TEAMLENS_OIDC_CLIENT_SECRET and TEAMLENS_OIDC_CLIENT_SECRET_FILE are set.",
            "Set only one of them.",
        )
    if secret is not None:
        value = secret.get_secret_value()
    else:
        try:
            value = secret_file.read_text(encoding="utf-8") if secret_file else ""
        except OSError:
            raise ConfigError(
                f"The OpenID Connect client secret file {secret_file} cannot be read.",
                "Check TEAMLENS_OIDC_CLIENT_SECRET_FILE and that the service's user may read the file.",
            ) from None
    if not value.strip():
        raise ConfigError("The OpenID Connect client secret is empty.", _SETTINGS_HINT)
    return value.strip()


def session_key(ws: Workspace) -> bytes:
    """The web session secret: from ``TEAMLENS_SESSION_SECRET``, or its file, created owner-only on first use.

    The file lies beside the pseudonymisation key by default and never inside the data folder, so
    a copy of the data folder cannot forge a sign-in attempt or a CSRF token.
    """
    given = ws.settings.session_secret
    if given is not None:
        return _hex_key(given.get_secret_value(), "TEAMLENS_SESSION_SECRET")
    ws.settings.check_session_key_location()
    path = ws.settings.session_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker process created it first; read theirs
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(SESSION_KEY_BYTES) + "\n")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(
            f"The session key {path} is readable by other users.",
            f"Make it owner-only: chmod 600 {path}",
        )
    return _hex_key(path.read_text(encoding="utf-8"), str(path))


def _hex_key(text: str, origin: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) < SESSION_KEY_BYTES:
        raise ConfigError(
            f"The session secret in {origin} is not {SESSION_KEY_BYTES} bytes written as hex digits.",
            "Delete the file (a new secret is made on the next start), or set 64 hex digits.",
        )
    return key


@dataclass(frozen=True)
class SignedIn:
    """Who the identity provider vouched for: the worker (by pseudonym), their roles, their second factor.

    ``mfa`` is True when the ID token's ``amr`` or ``acr`` proves a second factor; ``roles_sha256``
    names the role mapping the roles came from (a change of mapping revokes the session).
    """

    worker: SignedInWorker
    roles: frozenset[Role]
    mfa: bool
    roles_sha256: str


#: ``amr`` values (RFC 8176) that prove more than a password.
MFA_METHODS = frozenset({"mfa", "hwk", "swk", "otp", "sms", "fpt", "face", "iris", "sc", "pop", "fido"})


def sign_in(ws: Workspace, email: str, claims: Mapping[str, Any] | None = None) -> SignedIn:
    """Who signed in, for an address (and ID-token claims) the provider verified; the address is not kept."""
    claims = claims or {}
    mapping = role_map(ws)
    amr = claims.get("amr")
    acr = claims.get("acr")
    accepted_acr = {v.strip() for v in (ws.settings.oidc_mfa_acr or "").split(",") if v.strip()}
    mfa = (isinstance(amr, list) and bool(MFA_METHODS & {str(m) for m in amr})) or (
        isinstance(acr, str) and acr in accepted_acr
    )
    roles = mapping.roles_for(email, claims)
    if roles != {Role.WORKER} and not mapping_approved(ws):
        log.warning("roles refused: the roles file is not the one both parties approved with their keys")
        roles = frozenset({Role.WORKER})
    return SignedIn(SignedInWorker(pseudonym_of(ws, email)), roles, mfa, mapping.sha256)

"""What worker sign-in needs from the installation: its identity-provider settings and secrets.

The web app signs workers in with OpenID Connect and then knows them only by pseudonym. This
module gives it :func:`sign_in_config` (the provider's settings from ``settings.py``, or None
while sign-in is not configured), :func:`session_key` (the key that signs session cookies, kept
in the data folder and created owner-only on first use) and :func:`sign_in` (the signed-in
worker for an address the provider vouched for). The session key sits beside the data on
purpose: a cookie names a pseudonym, never an address, so whoever could forge one with the key
could reach only data they can already read in the data folder; turning an address into a
pseudonym needs the pseudonymisation key, which is kept elsewhere.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from teamlens.errors import ConfigError
from teamlens.services.rights import SignedInWorker, pseudonym_of
from teamlens.services.workspace import Workspace

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
    """The key that signs web sessions: read from its file, created owner-only on first use."""
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
    try:
        key = bytes.fromhex(path.read_text(encoding="utf-8").strip())
    except ValueError:
        key = b""
    if len(key) < SESSION_KEY_BYTES:
        raise ConfigError(
            f"The session key {path} is not {SESSION_KEY_BYTES} bytes written as hex digits.",
            "Delete the file: a new key is created on the next start (everyone signs in again).",
        )
    return key


def sign_in(ws: Workspace, email: str) -> SignedInWorker:
    """The signed-in worker for an address the identity provider verified; only its pseudonym is kept."""
    return SignedInWorker(pseudonym_of(ws, email))

"""Where teamlens keeps things, read from environment variables (prefix ``TEAMLENS_``).

| setting | environment variable | default |
|---|---|---|
| data_dir | TEAMLENS_DATA_DIR | ``./teamlens-data`` |
| key_file | TEAMLENS_KEY_FILE | ``~/.config/teamlens/pseudonym.key`` (must lie outside data_dir) |
| database_url | TEAMLENS_DATABASE_URL | ``sqlite:///<data_dir>/governance.sqlite`` |
| encrypt_store | TEAMLENS_ENCRYPT_STORE | ``false``; ``true`` encrypts the fact store at rest |
| log_level | TEAMLENS_LOG_LEVEL | ``INFO`` |
| engine | TEAMLENS_ENGINE | ``duckdb``; ``spark`` aggregates releases on Spark (``teamlens[spark]``) |
| spark_master | TEAMLENS_SPARK_MASTER | unset: spark-submit's master, else ``local[*]`` |
| oidc_issuer | TEAMLENS_OIDC_ISSUER | unset: worker sign-in is off |
| oidc_client_id | TEAMLENS_OIDC_CLIENT_ID | unset |
| oidc_client_secret | TEAMLENS_OIDC_CLIENT_SECRET | unset (or use the file below) |
| oidc_client_secret_file | TEAMLENS_OIDC_CLIENT_SECRET_FILE | unset |
| oidc_email_claim | TEAMLENS_OIDC_EMAIL_CLAIM | ``email`` (then ``preferred_username``, ``upn``) |
| oidc_allowed_domains | TEAMLENS_OIDC_ALLOWED_DOMAINS | unset: any domain (comma-separated list) |
| web_base_url | TEAMLENS_WEB_BASE_URL | unset; e.g. ``https://teamlens.example.org`` |
| session_key_file | TEAMLENS_SESSION_KEY_FILE | ``web-session.key`` beside the key file (outside data_dir) |
| session_secret | TEAMLENS_SESSION_SECRET | unset: the file above (64 hex digits, for containers) |
| roles_file | TEAMLENS_ROLES_FILE | unset: nobody has a role beyond worker (see docs/worker-sign-in.md) |
| oidc_mfa_acr | TEAMLENS_OIDC_MFA_ACR | unset (comma-separated ``acr`` values that prove a second factor) |
| hosting | TEAMLENS_HOSTING | unset; who runs the server and where, e.g. ``Example Cloud Ltd, London, UK`` |
| processors | TEAMLENS_PROCESSORS | unset; processor entries separated by ``;`` (below) |
| backup_expiry_days | TEAMLENS_BACKUP_EXPIRY_DAYS | ``35``: days a backup of the data is kept (R15) |
| archive_dir | TEAMLENS_ARCHIVE_DIR | ``<data_dir>/archive``: finished periods' archived aggregates |

The pseudonymisation key may instead be given directly as 64 hex digits in ``TEAMLENS_KEY``
(for containers and CI secrets); it is never written to the data folder or to a log. With
``encrypt_store`` on, every Parquet file of the fact store is encrypted (AES-256-GCM, Parquet
modular encryption) under a key derived from the pseudonymisation key, so a copy of the data
folder without that key reads as noise; choose it when the store is first written (an existing
store keeps the choice it was written with).

Worker sign-in (OpenID Connect, for the worker's own page at ``/me``) is on when the issuer,
client id, a client secret and the web base URL are all set; the identity provider redirects
back to ``<web_base_url>/auth/callback``. The session secret (which signs the sign-in attempt
cookie and the CSRF tokens; sessions themselves are kept server side) is created on first use
beside the pseudonymisation key, never in the data folder. Roles beyond worker (analyst,
representative, DPO, admin) come from the roles file, which both parties approve with their keys.

The DPIA lists the hosting and processors declared here beside every outbound connection the
settings and the policy make (the identity provider, a remote governance database, live
connectors); a connection whose host no declared processor names is flagged in it (R29). Each
processor entry is ``name | service | location``; name the host in the service part, e.g.
``Microsoft Ireland | sign-in via login.microsoftonline.com | EU``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from teamlens.errors import ConfigError


def _default_key_file() -> Path:
    return Path.home() / ".config" / "teamlens" / "pseudonym.key"


class Settings(BaseSettings):
    """Paths and connection strings for one teamlens installation."""

    model_config = SettingsConfigDict(env_prefix="TEAMLENS_", frozen=True)

    data_dir: Path = Field(default=Path("teamlens-data"), description="folder holding facts and state")
    key_file: Path = Field(default_factory=_default_key_file, description="pseudonymisation key file")
    key: SecretStr | None = Field(default=None, description="the key as 64 hex digits, instead of key_file")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL of the governance database")
    encrypt_store: bool = Field(default=False, description="encrypt the fact store's files at rest")
    log_level: str = Field(default="INFO", description="logging level")
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="what computes each release block's clipped totals (docs/scaling.md)"
    )
    spark_master: str | None = Field(default=None, description="Spark master URL for TEAMLENS_ENGINE=spark")
    oidc_issuer: str | None = Field(default=None, description="OpenID Connect issuer URL for worker sign-in")
    oidc_client_id: str | None = Field(default=None, description="client id registered at the issuer")
    oidc_client_secret: SecretStr | None = Field(default=None, description="client secret")
    oidc_client_secret_file: Path | None = Field(default=None, description="file holding the client secret")
    oidc_email_claim: str = Field(default="email", description="ID-token claim holding the work address")
    oidc_allowed_domains: str | None = Field(
        default=None, description="comma-separated e-mail domains allowed to sign in (default: any)"
    )
    web_base_url: str | None = Field(default=None, description="the web app's public URL")
    session_key_file: Path | None = Field(default=None, description="secret signing sign-in and CSRF tokens")
    session_secret: SecretStr | None = Field(default=None, description="that secret as 64 hex digits")
    roles_file: Path | None = Field(default=None, description="TOML mapping groups and addresses to roles")
    oidc_mfa_acr: str | None = Field(default=None, description="acr values proving a second factor")
    hosting: str | None = Field(default=None, description="who hosts the server and where (DPIA, R29)")
    processors: str | None = Field(
        default=None, description="DPIA processors: 'name | service | location' entries, ';'-separated"
    )
    backup_expiry_days: int = Field(default=35, ge=0, description="days a backup of the data folder is kept")
    archive_dir: Path | None = Field(default=None, description="where finished periods' aggregates go")

    @property
    def governance_url(self) -> str:
        """The SQLAlchemy URL of the governance database (SQLite in the data folder by default)."""
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'governance.sqlite'}"

    @property
    def facts_dir(self) -> Path:
        """Where the Parquet fact store lives."""
        return self.data_dir / "facts"

    @property
    def session_key_path(self) -> Path:
        """The file holding the web session secret: beside the pseudonymisation key by default."""
        return self.session_key_file or self.key_file.parent / "web-session.key"

    def in_data_folder(self, path: Path) -> bool:
        """Whether ``path`` lies inside the data folder (where no secret may be kept)."""
        data = self.data_dir.resolve()
        resolved = path.expanduser().resolve()
        return resolved == data or data in resolved.parents

    def check_session_key_location(self) -> None:
        """Refuse a session secret inside the data folder: a copy of the data must not forge tokens."""
        data, key = self.data_dir.resolve(), self.session_key_path.resolve()
        if self.in_data_folder(key):
            raise ConfigError(
                f"The web session secret {key} lies inside the data folder {data}.",
                "Set TEAMLENS_SESSION_KEY_FILE to a path outside it (the default is beside the "
                "pseudonymisation key), or give the secret in TEAMLENS_SESSION_SECRET.",
            )

    def check_key_location(self) -> None:
        """Refuse a key file inside the data folder: whoever copies the data must not get the key."""
        data, key = self.data_dir.resolve(), self.key_file.resolve()
        if self.in_data_folder(key):
            raise ConfigError(
                f"The pseudonymisation key file {key} lies inside the data folder {data}.",
                "Keep the key outside the data folder: set TEAMLENS_KEY_FILE to a path elsewhere.",
            )

"""Where teamlens keeps things, read from environment variables (prefix ``TEAMLENS_``).

| setting | environment variable | default |
|---|---|---|
| data_dir | TEAMLENS_DATA_DIR | ``./teamlens-data`` |
| key_file | TEAMLENS_KEY_FILE | ``~/.config/teamlens/pseudonym.key`` (must lie outside data_dir) |
| database_url | TEAMLENS_DATABASE_URL | ``sqlite:///<data_dir>/governance.sqlite`` |
| log_level | TEAMLENS_LOG_LEVEL | ``INFO`` |

The pseudonymisation key may instead be given directly as 64 hex digits in ``TEAMLENS_KEY``
(for containers and CI secrets); it is never written to the data folder or to a log.
"""

from __future__ import annotations

from pathlib import Path

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
    log_level: str = Field(default="INFO", description="logging level")

    @property
    def governance_url(self) -> str:
        """The SQLAlchemy URL of the governance database (SQLite in the data folder by default)."""
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'governance.sqlite'}"

    @property
    def facts_dir(self) -> Path:
        """Where the Parquet fact store lives."""
        return self.data_dir / "facts"

    def check_key_location(self) -> None:
        """Refuse a key file inside the data folder: whoever copies the data must not get the key."""
        data = self.data_dir.resolve()
        key = self.key_file.resolve()
        if key == data or data in key.parents:
            raise ConfigError(
                f"The pseudonymisation key file {key} lies inside the data folder {data}.",
                "Keep the key outside the data folder: set TEAMLENS_KEY_FILE to a path elsewhere.",
            )

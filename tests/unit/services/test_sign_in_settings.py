"""Worker sign-in settings and the session secret: each wrong value is refused, naming the setting.

A sign-in that half works is worse than none: an issuer over plain http, two client secrets, an
unreadable or empty secret file, a session key others can read or that is too short would each
let someone forge or intercept a sign-in. All are refused when the app reads its settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from teamlens.errors import ConfigError
from teamlens.services import Workspace
from teamlens.services.sign_in import session_key, sign_in_config
from teamlens.settings import Settings

GOOD: dict[str, Any] = {
    "oidc_issuer": "https://login.example.org/tenant/v2.0/",
    "oidc_client_id": "teamlens",
    "oidc_client_secret": SecretStr("s3cret"),
    "web_base_url": "https://teamlens.example.org/",
}


def _ws(tmp_path: Path, **settings: Any) -> Workspace:
    return Workspace(
        Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "pseudonym.key", **settings)
    )


def test_a_complete_configuration_is_read_as_given(tmp_path: Path) -> None:
    config = sign_in_config(_ws(tmp_path, **GOOD))
    assert config is not None
    assert config.issuer == GOOD["oidc_issuer"]  # kept exactly, trailing slash included
    assert config.redirect_uri == "https://teamlens.example.org/auth/callback"
    assert config.client_secret == GOOD["oidc_client_secret"].get_secret_value()
    assert config.secure_cookies
    assert sign_in_config(_ws(tmp_path)) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"oidc_issuer": "http://login.example.org"}, "TEAMLENS_OIDC_ISSUER must be an https:// URL"),
        (
            {"web_base_url": "https://teamlens.example.org/?next=x"},
            "TEAMLENS_WEB_BASE_URL must be an https://",
        ),
        ({"oidc_client_id": None}, "half configured: TEAMLENS_OIDC_CLIENT_ID"),
        ({"oidc_client_secret": SecretStr("   ")}, "client secret is empty"),
    ],
    ids=["http-issuer", "query-in-base-url", "half", "empty-secret"],
)
def test_a_wrong_setting_is_refused(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        sign_in_config(_ws(tmp_path, **(GOOD | changes)))


def test_plain_http_is_accepted_only_on_the_loopback_interface(tmp_path: Path) -> None:
    local = GOOD | {"oidc_issuer": "http://127.0.0.1:8080/", "web_base_url": "http://localhost:8000"}
    config = sign_in_config(_ws(tmp_path, **local))
    assert config is not None and not config.secure_cookies


def test_the_client_secret_comes_from_one_readable_place(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    with pytest.raises(ConfigError, match="Both TEAMLENS_OIDC_CLIENT_SECRET and"):
        sign_in_config(_ws(tmp_path, **(GOOD | {"oidc_client_secret_file": secret_file})))
    from_file = GOOD | {"oidc_client_secret": None, "oidc_client_secret_file": secret_file}
    with pytest.raises(ConfigError, match="cannot be read"):
        sign_in_config(_ws(tmp_path, **from_file))
    written = "from-the-file"
    secret_file.write_text(written + "\n", encoding="utf-8")
    config = sign_in_config(_ws(tmp_path, **from_file))
    assert config is not None and config.client_secret == written


def test_the_session_key_must_be_long_enough_and_owner_only(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TEAMLENS_SESSION_SECRET is not"):
        session_key(_ws(tmp_path, session_secret=SecretStr("abc")))
    assert session_key(_ws(tmp_path, session_secret=SecretStr("ab" * 32))) == bytes.fromhex("ab" * 32)
    ws = _ws(tmp_path)
    made = session_key(ws)  # created owner-only on first use, read back the same afterwards
    assert len(made) == 32 and session_key(ws) == made
    path = ws.settings.session_key_path
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        session_key(ws)
    path.chmod(0o600)
    path.write_text("not hex\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="hex digits"):
        session_key(ws)

"""App-only Microsoft Graph tokens through MSAL's client-credentials flow, for ``graph_live``.

The secret is read from the environment variable the connection file names and never shown;
the identity provider's error descriptions (which carry ids) are never shown either, only its
OAuth error code.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Protocol

import msal

from teamlens.errors import ConfigError
from teamlens.sources.http_client import TokenProvider

if TYPE_CHECKING:
    from teamlens.sources.graph_live import GraphConnection

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class ClientCredentialsApp(Protocol):
    """The part of ``msal.ConfidentialClientApplication`` teamlens uses."""

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        """A token response, or an error dict."""
        ...


class MsalTokens:
    """App-only Graph tokens via MSAL client credentials (a ``TokenProvider``).

    The MSAL application is built on the first request for a token, because building it
    fetches the tenant's OpenID configuration; MSAL caches tokens and renews them on expiry.
    """

    def __init__(
        self, connection: GraphConnection, secret: str, application: ClientCredentialsApp | None = None
    ) -> None:
        self._connection = connection
        self._secret = secret
        self._application = application

    def __repr__(self) -> str:
        return "MsalTokens(secret=<hidden>)"

    def _app(self) -> ClientCredentialsApp:
        if self._application is None:
            try:
                self._application = msal.ConfidentialClientApplication(
                    self._connection.client_id,
                    client_credential=self._secret,
                    authority=f"{self._connection.authority}/{self._connection.tenant_id}",
                )
            except (ValueError, OSError) as error:
                raise ConfigError(
                    f"{self._connection.path}: the Microsoft Entra authority could not be "
                    f"used ({type(error).__name__}).",
                    "Check tenant_id and authority in the connection file.",
                ) from None
        return self._application

    def token(self) -> str:
        """An access token for Microsoft Graph."""
        result = self._app().acquire_token_for_client(scopes=[GRAPH_SCOPE])
        token = result.get("access_token") if isinstance(result, dict) else None
        if isinstance(token, str) and token:
            return token
        error = result.get("error") if isinstance(result, dict) else None
        # OAuth error codes are a fixed vocabulary; descriptions carry ids and are never shown.
        code = error if isinstance(error, str) and re.fullmatch(r"[a-z_]{1,64}", error) else "no token"
        raise ConfigError(
            f"{self._connection.path}: Microsoft Entra did not issue a token to the app ({code}).",
            "Check client_id, tenant_id and the secret's expiry, and that the app has the "
            "Graph application permissions with admin consent.",
        )


def msal_tokens(connection: GraphConnection) -> TokenProvider:
    """The MSAL token provider, with the secret read from the environment variable the file names."""
    secret = os.environ.get(connection.secret_env, "")
    if not secret:
        raise ConfigError(
            f"{connection.path}: the environment variable named by client_secret_env is not set.",
            f"Set {connection.secret_env} to the app's client secret before running the ingest.",
        )
    return MsalTokens(connection, secret)

"""Graph connection files and MSAL app-only tokens: strict fields, no secret in the file or in errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from teamlens.errors import ConfigError
from teamlens.sources import detect_source
from teamlens.sources.graph_live import GRAPH_LIVE, GraphConnection
from teamlens.sources.graph_tokens import MsalTokens, msal_tokens

from .replay_server import ReplayServer
from .test_graph_live import SECRET, connection, pull, running_graph


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with running_graph() as (_, running):
        yield running


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"client_secret": SECRET}, "'client_secret' must not be in the file"),
        ({"reports": ["getMailboxUsageDetail"]}, "names a report teamlens does not read"),
        ({"users": None, "metadata": ["calendar"]}, "'users' is needed"),
        ({"metadata": ["files"]}, "may list only"),
        ({"period": "D30"}, "'period' must be"),
        ({"users": None}, "nothing to pull"),
        ({"tenant_id": None}, "'tenant_id' is missing"),
    ],
)
def test_connection_file_errors_name_the_field(
    tmp_path: Path, server: ReplayServer, fields: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        pull(connection(tmp_path, server, **fields))
    assert SECRET not in str(caught.value)


def test_daily_reports_are_asked_for_day_by_day(tmp_path: Path, server: ReplayServer) -> None:
    conn = GraphConnection.load(
        connection(
            tmp_path, server, reports=["getTeamsUserActivityUserDetail"], period="daily", end="2024-01-10"
        )
    )
    assert conn.report_calls() == [
        ("getTeamsUserActivityUserDetail", f"(date=2024-01-{day:02d})") for day in (8, 9, 10)
    ]
    assert detect_source(conn.path) is GRAPH_LIVE or detect_source(conn.path).name == "graph_live"


class FakeApplication:
    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        self.scopes: list[list[str]] = []

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        self.scopes.append(scopes)
        return self.result


def test_msal_tokens_are_built_without_network_and_errors_hide_descriptions(
    tmp_path: Path, server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = GraphConnection.load(connection(tmp_path, server))
    with pytest.raises(ConfigError, match="TEAMLENS_TEST_SECRET"):
        msal_tokens(conn)
    monkeypatch.setenv("TEAMLENS_TEST_SECRET", SECRET)
    provider = msal_tokens(conn)  # builds nothing yet: MSAL would fetch the tenant's configuration
    assert isinstance(provider, MsalTokens)
    assert SECRET not in repr(provider)
    built: list[dict[str, Any]] = []

    def application(client_id: str, **kwargs: Any) -> FakeApplication:
        built.append({"client_id": client_id, **kwargs})
        return FakeApplication(
            {
                "error": "invalid_client",
                "error_description": f"AADSTS7000215: Invalid client secret {SECRET} for app-1.",
            }
        )

    monkeypatch.setattr("msal.ConfidentialClientApplication", application)
    with pytest.raises(ConfigError) as caught:
        provider.token()
    assert "(invalid_client)" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert "AADSTS" not in str(caught.value)
    assert built == [
        {
            "client_id": "app-1",
            "client_credential": SECRET,
            "authority": "https://login.microsoftonline.com/contoso-tenant",
        }
    ]
    fine = FakeApplication({"access_token": "abc", "token_type": "Bearer", "expires_in": 3599})
    assert MsalTokens(conn, SECRET, application=fine).token() == "abc"
    assert fine.scopes == [["https://graph.microsoft.com/.default"]]
    odd = MsalTokens(conn, SECRET, application=FakeApplication({"error": "not-a-code " + SECRET}))
    with pytest.raises(ConfigError, match=r"\(no token\)") as caught:
        odd.token()
    assert SECRET not in str(caught.value)

"""Shared set-up for the web tests: organisations (a copy of its own for each test), and apps with
worker sign-in."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from freezegun import freeze_time
from pydantic import SecretStr

from teamlens import services
from teamlens.services import Workspace
from teamlens.web import create_app

from ..integration.flow_support import MFA, ROLE_HOLDERS, Org, build_org, policy_text, signer
from ..integration.flow_support import grant_roles as shared_grant_roles
from ..support.orgs import OrgCache, org_fixture
from .replayed_idp import BASE_URL, CLIENT_ID, CLIENT_SECRET, ISSUER, ReplayedProvider, sign_in


def grant_roles(org: Org) -> None:
    """The tests' roles file, approved by both parties (``flow_support.grant_roles``)."""
    shared_grant_roles(org.ws)


def signed_in_as(client: TestClient, idp: ReplayedProvider, role: str, *, mfa: bool = True) -> TestClient:
    """``client`` signed in as the holder of ``role`` (with a second factor unless told not to)."""
    done = sign_in(client, idp, ROLE_HOLDERS[role], claims=MFA if mfa else {})
    assert done.status_code == 303, done.text
    return client


def next_day(days: int = 1) -> AbstractContextManager[Any]:
    """The clock moved to a later UTC day, when the public pages show what was recorded before it."""
    return freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(days=days), tick=True)


def released(root: Path) -> Org:
    """200 synthetic workers, ingested, with monthly department and quarterly team releases."""
    built = build_org(root, people=200, weeks=10)
    services.ingest(built.ws, [built.exports], actor="admin")
    services.release(built.ws, "department-monthly", ["2026-01", "2026-02"], actor="analyst")
    services.release(built.ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    grant_roles(built)
    return built


released_org = org_fixture(released)


@pytest.fixture
def cli_env(released_org: Org, monkeypatch: pytest.MonkeyPatch) -> Org:
    """The released organisation, as the environment of the CLI commands a test runs."""
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(released_org.ws.settings.data_dir))
    monkeypatch.setenv("TEAMLENS_KEY_FILE", str(released_org.ws.settings.key_file))
    return released_org


def directory_emails(org: Org) -> list[str]:
    """Every worker's address in the organisation's HR directory, in file order, once each."""
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        return list(dict.fromkeys(row["Email"] for row in csv.DictReader(handle)))


@pytest.fixture(scope="session")
def emails(org_cache: OrgCache) -> list[str]:
    """Every worker's address in the released organisation's HR directory, in file order, once each."""
    return directory_emails(org_cache.built(released).org)


def sign_in_workspace(org: Org, **settings: Any) -> Workspace:
    """The organisation's installation with worker sign-in configured against the replayed provider."""
    roles = org.ws.settings.data_dir.parent / "roles.toml"
    configured = {
        "roles_file": roles if roles.exists() else None,
        "oidc_issuer": ISSUER,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": SecretStr(CLIENT_SECRET),
        "web_base_url": BASE_URL,
        **settings,
    }
    return Workspace(org.ws.settings.model_copy(update=configured))


@pytest.fixture
def idp() -> ReplayedProvider:
    """A fresh replayed identity provider."""
    return ReplayedProvider()


@pytest.fixture
def make_client(released_org: Org, idp: ReplayedProvider) -> Callable[..., TestClient]:
    """A browser on the app with sign-in configured (settings overrides as keyword arguments)."""

    def make(**settings: Any) -> TestClient:
        app: FastAPI = create_app(sign_in_workspace(released_org, **settings), idp_transport=idp.transport())
        return TestClient(app, base_url=settings.get("web_base_url", BASE_URL))

    return make


#: The policy of the organisations here, and the version put to consultation beside it.
PID = "collaboration-2026h1"
PROPOSED = 2


def consulting(root: Path) -> Org:
    """120 synthetic workers under policy version 1 with releases made, and version 2 in consultation."""
    built = build_org(root, people=120, weeks=6)
    services.ingest(built.ws, [built.exports], actor="admin")
    services.release(built.ws, "department-monthly", ["2026-01"], actor="analyst")
    services.release(built.ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    proposal = root / "v2.toml"
    proposal.write_text(policy_text(**{"version = 1": f"version = {PROPOSED}"}), encoding="utf-8")
    services.propose(built.ws, proposal, actor="HR analyst")
    services.consult(built.ws, PID, PROPOSED, by=signer(built.ws, "employer"), actor="HR director")
    grant_roles(built)
    return built


consulting_org = org_fixture(consulting)


@pytest.fixture(scope="session")
def consulting_emails(org_cache: OrgCache) -> list[str]:
    """Every worker's address in that organisation's HR directory, once each."""
    return directory_emails(org_cache.built(consulting).org)


@pytest.fixture
def consulting_client(consulting_org: Org, idp: ReplayedProvider) -> Callable[[], TestClient]:
    """A browser on that organisation's app, with worker sign-in configured."""

    def make() -> TestClient:
        app = create_app(sign_in_workspace(consulting_org), idp_transport=idp.transport())
        return TestClient(app, base_url=BASE_URL)

    return make

"""The web app serves released team-level reports only, with strict headers, and is off by default."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from teamlens.web import create_app

from ..integration.flow_support import Org, build_org
from ..support.orgs import org_fixture
from .conftest import grant_roles, released, sign_in_workspace, signed_in_as
from .replayed_idp import BASE_URL, ReplayedProvider

org = org_fixture(released)


def analyst(org: Org, idp: ReplayedProvider | None = None) -> TestClient:
    """A browser signed in as the analyst (with a second factor): the reports are theirs to read."""
    idp = idp or ReplayedProvider()
    app = create_app(sign_in_workspace(org), idp_transport=idp.transport())
    return signed_in_as(TestClient(app, base_url=BASE_URL), idp, "analyst")


def test_report_page_shows_released_figures_with_intervals_and_the_guarantee(org: Org) -> None:
    response = analyst(org).get("/")
    assert response.status_code == 200
    page = response.text
    assert "Departments, month by month" in page
    assert "Teams, quarter by quarter" in page
    assert "95% interval" in page
    assert "<svg" in page
    assert "fewer than 10 people" in page  # some of the 3–40 person teams are suppressed
    assert "Not for decisions about individuals" in page
    assert "ε = " in page
    assert "ρ = " in page
    assert "<script" not in page  # self-contained, nothing runs
    assert TestClient(create_app(sign_in_workspace(org)), base_url=BASE_URL).get("/").status_code == 403


def test_every_response_carries_strict_security_headers(org: Org) -> None:
    response = analyst(org).get("/")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_the_json_api_has_cells_and_intervals_but_no_headcount(org: Org) -> None:
    data = analyst(org).get("/api/releases").json()
    cells = [cell for report in data["reports"] for cell in report["cells"]]
    assert cells
    assert all(
        set(cell) == {"group", "window", "metric", "value", "lower", "upper", "suppressed"} for cell in cells
    )
    assert all(cell["value"] is None for cell in cells if cell["suppressed"])
    assert "headcount" not in {cell["metric"] for cell in cells}


def test_without_an_approved_policy_the_app_says_it_is_off(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=20, weeks=1, approve=False)
    grant_roles(org)
    client = analyst(org)
    page = client.get("/")
    assert page.status_code == 409
    assert "teamlens is off" in page.text
    api = client.get("/api/releases")
    assert api.status_code == 409
    assert api.json()["error"] == "no approved policy"

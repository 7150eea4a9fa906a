"""``/`` serves the released reports as released: every figure from its cell, the reliable first,
strict headers, compressed, rendered once per release; and it is off while no policy is in force."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.domain import HEADCOUNT, Window
from teamlens.web import create_app
from teamlens.web.report_cache import accepts_gzip

from ..integration.flow_support import Org, analyst_client, build_org, signer
from ..unit.services.report_check import problems, read_report

API_FIELDS = {
    "group",
    "window",
    "metric",
    "value",
    "lower",
    "upper",
    "suppressed",
    "uncertain",
    "clamped",
    "total",
    "person_weeks",
    "sd_total",
    "sd_person_weeks",
}


def test_every_figure_on_the_page_is_its_released_cell_and_the_reliable_come_first(released_org: Org) -> None:
    response = analyst_client(released_org.ws).get("/")
    assert response.status_code == 200
    policy, tables = services.released_tables(released_org.ws)
    page = response.text
    assert problems(page, tables, policy.min_group_size) == []
    shown = read_report(page)
    assert shown.sections == ["department-monthly", "team-quarterly"]
    assert shown.folded == {"team-quarterly": True}
    assert len(shown.cells) == sum(len(table.cells) for table in tables)
    assert page.index("How to read this report") < page.index('id="report-department-monthly"')
    assert "Not for decisions about individuals" in page and "<script" not in page
    # The reports are the analyst's and the representative's: no one signed out reads them.
    assert TestClient(create_app(released_org.ws)).get("/").status_code in (401, 403, 503)


def test_every_response_carries_strict_security_headers(released_org: Org) -> None:
    client = analyst_client(released_org.ws)
    for encoding in ("gzip", "identity"):
        response = client.get("/", headers={"accept-encoding": encoding})
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


def test_the_page_is_sent_compressed_to_whoever_accepts_it_and_plain_otherwise(released_org: Org) -> None:
    client = analyst_client(released_org.ws)
    plain = client.get("/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    # httpx decodes what it is sent; read the bytes on the wire instead.
    with client.stream("GET", "/", headers={"accept-encoding": "gzip, deflate"}) as zipped:
        wire = b"".join(zipped.iter_raw())
        assert zipped.headers["content-encoding"] == "gzip"
        assert int(zipped.headers["content-length"]) == len(wire) < len(plain.content) / 5
    assert gzip.decompress(wire) == plain.content
    api = client.get("/api/releases", headers={"accept-encoding": "gzip"})
    assert api.headers["content-encoding"] == "gzip" and api.json()["reports"]


@pytest.mark.parametrize(
    ("header", "accepted"), [("gzip, deflate, br", True), ("GZIP", True), ("br", False), ("", False)]
)
def test_gzip_is_sent_to_clients_that_name_it(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_the_page_is_rendered_once_and_again_only_after_a_new_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = build_org(tmp_path, people=80, weeks=9)
    services.ingest(org.ws, [org.exports], actor="admin")
    services.release(org.ws, "department-monthly", ["2026-01"], actor="analyst")
    renders = []
    render = services.render_report
    monkeypatch.setattr(services, "render_report", lambda context: renders.append(1) or render(context))
    client = analyst_client(org.ws)
    first = client.get("/")
    assert [client.get("/").content for _ in range(5)] == [first.content] * 5
    # An audit entry that changes nothing shown: the key is checked again, the page is kept.
    org.ws.governance.append_audit("analyst", "report.viewed", {"page": "/"})
    assert client.get("/").content == first.content and len(renders) == 1
    assert "2026-02" not in first.text
    services.release(org.ws, "department-monthly", ["2026-02"], actor="analyst")
    after = client.get("/")
    assert len(renders) == 2 and 'data-window="2026-02"' in after.text
    policy, tables = services.released_tables(org.ws)
    assert problems(after.text, tables, policy.min_group_size) == []
    # Teeth: the same page served to a client that bypasses the check would be stale.
    assert after.content != first.content


def test_a_retired_policy_turns_the_page_off_at_once(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=20, weeks=1)
    client = analyst_client(org.ws)
    assert client.get("/").status_code == 200
    active = services.in_force(org.ws)
    policy = active.policy
    services.retire(org.ws, policy.policy_id, policy.version, by=signer(org.ws, "employer"), actor="HR")
    off = client.get("/")
    assert off.status_code == 409 and "teamlens is off" in off.text


def test_the_json_api_has_cells_with_noisy_figures_but_no_true_headcount(released_org: Org) -> None:
    data = analyst_client(released_org.ws).get("/api/releases").json()
    cells = [dict(cell, level=report["level"]) for report in data["reports"] for cell in report["cells"]]
    assert cells and all(set(cell) == API_FIELDS | {"level"} for cell in cells)
    assert HEADCOUNT not in {cell["metric"] for cell in cells}
    for cell in cells:
        if cell["suppressed"]:  # "fewer than k people", and nothing else
            assert {key for key, value in cell.items() if value not in (None, False)} <= {
                "group",
                "window",
                "metric",
                "suppressed",
                "level",
            }
            continue
        # What is published is noisy and says how noisy: a mean, its noisy parts, their σ.
        assert cell["sd_total"] > 0 and cell["sd_person_weeks"] > 0
        assert cell["lower"] <= cell["value"] <= cell["upper"] and cell["lower"] < cell["upper"]
        if not cell["clamped"]:
            assert math.isclose(cell["value"], cell["total"] / cell["person_weeks"], rel_tol=1e-9)
    # The published person-weeks are the noisy headcount's, not the true one (recomputing a
    # noisy headcount from them is post-processing): compare with the store's exact count.
    truth = _true_person_weeks(released_org, "team", "2026-Q1")
    teams = [
        cell
        for cell in cells
        if cell["level"] == "team" and cell["window"] == "2026-Q1" and not cell["suppressed"]
    ]
    assert len(teams) >= 10
    exact = [cell for cell in teams if math.isclose(cell["person_weeks"], truth[cell["group"]], abs_tol=1e-6)]
    assert len(exact) < len(teams) / 2, (len(exact), len(teams))


def _true_person_weeks(org: Org, level: str, window: str) -> dict[str, float]:
    """Each group's exact person-weeks in ``window``, straight from the store (test-only truth)."""
    rows = org.ws.store.aggregate_block(
        levels=[level], weeks=Window.parse(window).weeks, clips={}, headcount=True
    )
    truth: dict[str, float] = {}
    for row in rows.to_pylist():
        if row["metric"] == HEADCOUNT and row["level"] == level:
            truth[row["group"]] = truth.get(row["group"], 0.0) + row["total"]
    return truth


def test_without_an_approved_policy_the_app_says_it_is_off(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=20, weeks=1, approve=False)
    client = analyst_client(org.ws)
    page = client.get("/")
    assert page.status_code == 409
    assert "teamlens is off" in page.text
    api = client.get("/api/releases")
    assert api.status_code == 409
    assert api.json()["error"] == "no approved policy"

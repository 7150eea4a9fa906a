"""The representative's page for the union's copy (R25): their role only, CSRF-checked downloads, audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient

from teamlens import services
from teamlens.services.union_export import COLUMNS

from ..integration.flow_support import Org
from .conftest import signed_in_as
from .replayed_idp import ReplayedProvider
from .test_worker_sign_in import csrf_of


def test_the_representative_downloads_the_released_cells_and_the_request_is_audited(
    released_org: Org, make_client: Callable[..., TestClient], idp: ReplayedProvider
) -> None:
    browser = signed_in_as(make_client(), idp, "representative")
    page = browser.get("/rep/union")
    assert page.status_code == 200
    assert "department-monthly" in page.text and "team-quarterly" in page.text
    assert browser.post("/rep/union.csv", data={}).status_code == 403  # no CSRF token: refused
    before = released_org.ws.governance.audit_head()[0]
    response = browser.post("/rep/union.csv", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == COLUMNS
    kept = {
        (cell.window, cell.metric, cell.group)
        for table in services.released_tables(released_org.ws)[1]
        for cell in table.cells
    }
    assert {(row["window"], row["metric"], row["group"]) for row in rows} == kept
    entry = released_org.ws.governance.audit_entries(limit=1)[0]
    assert entry.seq == before + 1
    assert (entry.action, entry.actor, entry.details["format"]) == ("union.download", "representative", "csv")


def test_an_analyst_is_refused_the_union_page(
    make_client: Callable[..., TestClient], idp: ReplayedProvider
) -> None:
    browser = signed_in_as(make_client(), idp, "analyst")
    assert browser.get("/rep/union").status_code == 403

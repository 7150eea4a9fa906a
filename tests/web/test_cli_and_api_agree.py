"""The command line and the web API show the same released cells, suppressions included.

`teamlens report --json` prints exactly what `/api/releases` answers the analyst, and the cells
the CLI's release tables show as "fewer than k" are exactly those the API marks ``suppressed``.
Every command that prints results also prints them as JSON on ``--json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.markup import escape
from rich.table import Table

from teamlens import services
from teamlens.cli.render import release_tables

from ..integration.flow_support import Org, run_cli
from .conftest import signed_in_as
from .replayed_idp import ReplayedProvider


def api_releases(make_client: Callable[..., TestClient], idp: ReplayedProvider) -> dict[str, Any]:
    answered = signed_in_as(make_client(), idp, "analyst").get("/api/releases")
    assert answered.status_code == 200
    return dict(answered.json())


def suppressed_in_api(api: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {
        (report["report_id"], cell["group"], cell["window"], cell["metric"])
        for report in api["reports"]
        for cell in report["cells"]
        if cell["suppressed"]
    }


def shown_as_fewer_than_k(report_id: str, grid: Table, metric: str, k: int) -> set[tuple[str, str, str, str]]:
    """The (report, group, window, metric) cells a CLI release table shows as "fewer than k people"."""
    groups = [str(cell) for cell in grid.columns[0]._cells]
    found = set()
    for column in grid.columns[1:]:
        for group, text in zip(groups, column._cells, strict=True):
            if str(text) == f"[dim]{escape(services.report_cells.fewer_than(k))}[/dim]":
                found.add((report_id, group, str(column.header), metric))
    return found


def test_report_json_is_what_the_api_answers(
    cli_env: Org,
    capsys: pytest.CaptureFixture[str],
    make_client: Callable[..., TestClient],
    idp: ReplayedProvider,
) -> None:
    code, out = run_cli(capsys, "report", "--json")
    assert code == 0, out
    assert json.loads(out) == api_releases(make_client, idp)


def test_the_cli_shows_fewer_than_k_exactly_where_the_api_says_suppressed(
    cli_env: Org, make_client: Callable[..., TestClient], idp: ReplayedProvider
) -> None:
    api = api_releases(make_client, idp)
    expected = suppressed_in_api(api)
    assert expected, "the organisation has no suppressed cell: the test would prove nothing"
    shown: set[tuple[str, str, str, str]] = set()
    for report in api["reports"]:
        table = services.release(cli_env.ws, report["report_id"], report["windows"], actor="test")
        assert table.rho_charged == 0  # all of it was released before: read back, not re-noised
        for metric, grid in zip(table.metrics, release_tables(table), strict=True):
            shown |= shown_as_fewer_than_k(report["report_id"], grid, metric, table.min_group_size)
    assert shown == expected


@pytest.mark.parametrize(
    ("command", "key"),
    [
        (["store", "verify"], "intact"),
        (["audit", "verify"], "ok"),
        (["notifications", "list"], None),
        (["rights", "requests"], None),
        (["keys", "list"], "registered"),
        (["policy", "list"], None),
        (["audit", "show", "--limit", "3"], None),
    ],
)
def test_every_command_that_prints_results_prints_json_on_request(
    cli_env: Org, capsys: pytest.CaptureFixture[str], command: list[str], key: str | None
) -> None:
    code, out = run_cli(capsys, *command, "--json")
    assert code == 0, out
    parsed = json.loads(out)
    if key is None:
        assert isinstance(parsed, list)
    else:
        assert parsed[key]

"""`make demo`'s flow on a small organisation: every step runs and every document is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from teamlens import services
from teamlens.errors import ConfigError
from teamlens.services.demo import DEMO_METRICS

from .flow_support import run_cli


def test_the_demo_runs_the_whole_flow_and_writes_every_document(tmp_path: Path) -> None:
    result = services.run_demo(tmp_path / "demo", people=150, weeks=26)
    assert result.releases == 2
    assert result.rows > 10_000
    page = result.report.read_text(encoding="utf-8")
    assert "Departments, month by month" in page and "Teams, quarter by quarter" in page
    # The new catalogue, from the demo's calendar and usage reports (issue 11).
    _, tables = services.released_tables(services.Workspace(result.settings))
    shown = {cell.metric for table in tables for cell in table.cells if cell.value is not None}
    assert set(DEMO_METRICS) <= shown
    assert "Focus hours" in page and "1:1 hours with one&#39;s manager" in page
    for kind in ("dpia", "notice", "explainer", "register"):
        assert (result.out_dir / f"{kind}.html").stat().st_size > 1_000
    dpia = (result.out_dir / "dpia.html").read_text(encoding="utf-8")
    assert "Please keep team figures quarterly" in dpia  # the consultation record, verbatim (R5)
    assert not result.settings.key_file.is_relative_to(result.settings.data_dir)
    for path in result.key_files.values():  # the demo's parties' keys: beside, never inside, the data
        assert not path.is_relative_to(result.settings.data_dir)
    assert services.mapping_approved(services.Workspace(result.settings))  # its roles file is signed
    _the_demo_serves_every_role(result.out_dir)


def _the_demo_serves_every_role(out: Path) -> None:
    from fastapi.testclient import TestClient

    from teamlens.web import create_app
    from teamlens.web.demo_idp import DemoIdentityProvider

    ws, idp = services.demo_workspace(out, 8123, DemoIdentityProvider)
    try:
        login = TestClient(create_app(ws)).get("/auth/login", follow_redirects=False)
        assert login.headers["location"].startswith(f"{idp.issuer}/authorize?")
    finally:
        idp.stop()


def test_the_demo_identity_provider_never_serves_a_real_installation(tmp_path: Path) -> None:
    from teamlens.web.demo_idp import DemoIdentityProvider

    (tmp_path / "data").mkdir()
    with pytest.raises(ConfigError, match="was not built by `teamlens demo`"):
        services.demo_workspace(tmp_path, 8123, DemoIdentityProvider)


def test_the_demo_command_refuses_to_overwrite_an_installation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "demo")
    code, printed = run_cli(capsys, "demo", "--out", out, "--people", "60", "--weeks", "4")
    flat = " ".join(printed.split())
    assert code == 0 and "Demo organisation of 60 people" in flat and "released 2 reports" in flat
    assert "Report:" in flat and "DPIA, worker notice, explainer and register:" in flat
    with pytest.raises(ConfigError, match="already holds"):
        services.run_demo(tmp_path / "demo", people=60, weeks=4)
    code, printed = run_cli(capsys, "demo", "--out", out, "--people", "60", "--weeks", "4")
    assert code == ConfigError.exit_code and "already holds" in printed

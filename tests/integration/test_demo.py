"""`make demo`'s flow on a small organisation: every step runs and every document is written."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.errors import ConfigError
from teamlens.services.demo import DEMO_METRICS, DemoResult

from .flow_support import run_cli

# The demo is built once for this module (by `teamlens demo`, as `make demo` does); its tests only
# read it. They run on one test process so that it is built once per run (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("demo")


@dataclass(frozen=True)
class Demo:
    """What `teamlens demo` built and what it printed."""

    result: DemoResult
    printed: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo") / "demo"
    built: list[DemoResult] = []
    run_demo = services.run_demo

    def kept(*args: Any, **kwargs: Any) -> DemoResult:
        built.append(run_demo(*args, **kwargs))
        return built[-1]

    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setattr(services, "run_demo", kept)
        main(["demo", "--out", str(out), "--people", "150", "--weeks", "26"])  # returns: no SystemExit
    assert len(built) == 1
    return Demo(built[0], printed.getvalue())


def test_the_demo_runs_the_whole_flow_and_writes_every_document(demo: Demo) -> None:
    result = demo.result
    assert result.releases == 4  # departments, teams, the organisation and the network
    assert result.rows > 10_000
    page = result.report.read_text(encoding="utf-8")
    assert "Departments, month by month" in page and "Teams, quarter by quarter" in page
    # The new catalogue, from the demo's calendar and usage reports (issue 11).
    _, tables = services.released_tables(services.Workspace(result.settings))
    shown = {cell.metric for table in tables for cell in table.cells if cell.value is not None}
    assert set(DEMO_METRICS) <= shown
    assert "Focus hours" in page and "1:1 hours with one&#39;s manager" in page
    # Each question has its organisation headline, and the network its heatmap (issue 11).
    # (without the organisation report, the demo showed comparisons and no headline at all; how many
    # questions have a figure worth reading at 150 people depends on the noise and the budget)
    assert "The organisation, month by month" in page and page.count('class="headline"') >= 1
    network = page[page.index('id="q-network"') : page.index('id="tables"')]
    # (whether a pair is shaded depends on the noise at 150 people: the chart and its caption are there)
    assert 'class="chart heatmap"' in network and "meeting hours per week spent by the department" in network
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
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    flat = " ".join(demo.printed.split())
    assert demo.result.people >= 150  # the 150 asked for, and those who join over the 26 weeks
    assert f"Demo organisation of {demo.result.people} people" in flat and "released 4 reports" in flat
    assert "Report:" in flat and "DPIA, worker notice, explainer and register:" in flat
    before = sorted(path for path in demo.result.out_dir.rglob("*"))
    with pytest.raises(ConfigError, match="already holds"):
        services.run_demo(demo.result.out_dir, people=60, weeks=4)
    code, printed = run_cli(
        capsys, "demo", "--out", str(demo.result.out_dir), "--people", "60", "--weeks", "4"
    )
    assert code == ConfigError.exit_code and "already holds" in printed
    assert sorted(path for path in demo.result.out_dir.rglob("*")) == before  # nothing written

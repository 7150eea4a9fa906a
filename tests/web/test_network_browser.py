"""The collaboration network in a real browser: the report's "who collaborates with whom?" question.

An organisation's mail, Slack and calendar exports (``network_fixture``) are ingested and both of
its network reports released in exact mode (a 33-person fixture's pairs would be mostly noise at
a real budget; the page, not the noise, is under test here), the report is written as the one
self-contained HTML file it is, and headless Chromium opens it: the network question holds a
heatmap with shaded squares, a one-sentence caption and the share of collaboration outside one's
own department with its interval; the department under the comparison floor (Delta) is in no
square; nothing is cropped and no script runs. A screenshot of the section is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from teamlens import services

from ..integration.network_fixture import network_workspace
from ..support.exact import exact_mode
from .test_browser_e2e import CHROMIUM, FLAGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield launched
        launched.close()


def test_the_network_question_shows_its_heatmap_and_the_share_outside_ones_department(
    tmp_path: Path, browser: Any
) -> None:
    ws, _ = network_workspace(tmp_path)
    with exact_mode():
        for report in ("departments", "network", "meeting-network"):
            services.release(ws, report, ["2026-03"], actor="analyst")
    policy, tables = services.released_tables(ws)
    report = services.write_report(policy, tables, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(report.as_uri())
    section = page.locator("#q-network")
    assert section.count() == 1
    chart = section.locator("figure.chart.heatmap")
    assert chart.locator("svg rect.heat").count() >= 4  # three departments: nine pairs, most shaded
    caption = chart.locator("figcaption").inner_text().strip()
    assert caption.endswith(".") and ". " not in caption and "messages per week" in caption
    names = set(chart.evaluate("f => [...f.querySelectorAll('text.hname')].map(t => t.textContent)"))
    assert names == {"Alpha", "Beta", "Gamma"}  # Delta, under the comparison floor, is in no pair
    headline = section.locator("p.headline").inner_text()
    assert "of collaboration goes to another department" in headline and "–" in headline
    svg, figure = chart.locator("svg").bounding_box(), chart.bounding_box()
    assert svg["x"] + svg["width"] <= figure["x"] + figure["width"] + 1, "the heatmap is cropped"
    shot = tmp_path / "network.png"
    section.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 5_000 and errors == []
    # The network's pairs are not drawn as a table of comparisons: no ranking anywhere.
    assert page.locator("#report-network").count() == 0

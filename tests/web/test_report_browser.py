"""The report page in headless Chromium: it reads in a real browser as it is meant to.

The app runs under uvicorn on the loopback interface with a released organisation and the demo
identity provider. Chromium signs in as the analyst (the reports are theirs), opens ``/``, finds
each question's chart (with a one-sentence caption, something drawn in it, nothing cropped) and
saves a screenshot of each, then the department tables and the team tables folded, opens a team
table and then its "show all" list, and saves a screenshot of each step under the test's temporary
folder (the path is printed; ``pytest -s`` shows it). Along the way: no script error and no
Content-Security-Policy violation is reported, no chart panel is empty, and the page never needs a
horizontal scroll bar, on a laptop or on a phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..integration.flow_support import Org
from .conftest import ROLE_HOLDERS
from .test_browser_e2e import CHROMIUM, FLAGS, _served, _sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")


@pytest.fixture
def site(released_org: Org) -> Iterator[str]:
    """The app serving the released organisation on http://localhost:PORT, with the demo provider."""
    for base, _org in _served(released_org):
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield launched
        launched.close()


def _overflows(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"))


def _each_question_has_its_chart(page: Any, shots: Any) -> None:
    """Every question section holds a drawn chart with a caption, before the tables; one screenshot each."""
    questions = page.eval_on_selector_all("section.question", "all => all.map(s => s.id)")
    assert questions, "the report answers no question"
    tables = page.locator("#tables").bounding_box()
    for number, key in enumerate(questions, start=1):
        section = page.locator(f"#{key}")
        charts = section.locator("figure.chart")
        assert charts.count() >= 1, f"{key}: no chart"
        for index in range(charts.count()):
            chart = charts.nth(index)
            drawn = chart.evaluate("f => f.querySelectorAll('svg circle, svg rect.heat').length")
            caption = chart.locator("figcaption").inner_text().strip()
            assert drawn >= 1, f"{key}: chart {index} draws nothing"
            assert caption.endswith(".") and ". " not in caption, f"{key}: caption {caption!r}"
            svg, figure = chart.locator("svg").bounding_box(), chart.bounding_box()
            assert svg["x"] + svg["width"] <= figure["x"] + figure["width"] + 1, f"{key}: chart cropped"
        assert section.bounding_box()["y"] < tables["y"], f"{key} comes after the tables"
        section.screenshot(path=str(shots / f"q{number}-{key}.png"))


def test_a_reader_finds_the_reliable_figures_first_and_opens_a_team_table(
    site: str, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = tmp_path_factory.mktemp("report-screenshots")
    print(f"screenshots: {shots}")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, site, ROLE_HOLDERS["analyst"], mfa=True)  # the reports are the analyst's
    complaints: list[str] = []
    page.on(
        "console",
        lambda message: complaints.append(message.text) if message.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda error: complaints.append(str(error)))
    response = page.goto(f"{site}/")
    assert response is not None and response.status == 200
    assert response.headers.get("content-encoding") == "gzip"  # what a browser gets
    page.screenshot(path=str(shots / "1-top.png"))
    _each_question_has_its_chart(page, shots)
    sections = page.eval_on_selector_all("section.report", "all => all.map(s => s.id)")
    assert sections == ["report-department-monthly", "report-team-quarterly"]
    assert page.locator("section.report h2").first.inner_text() == "Departments, month by month"
    dots = page.eval_on_selector_all(
        "figure.chart svg", "all => all.map(s => s.querySelectorAll('circle').length)"
    )
    assert dots and min(dots) >= 1, "a chart panel with nothing drawn"
    assert not _overflows(page)

    team = page.locator("#team-quarterly-emails_sent")
    assert team.get_attribute("open") is None and not team.locator("table").first.is_visible()
    team.locator("summary").first.click()
    assert team.get_attribute("open") is not None
    team.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "2-team-table-open.png"))
    rest = team.locator("details.rest")
    summary = rest.locator("summary").inner_text()
    assert summary.startswith("Show all ") and "teams" in summary
    rest.locator("summary").click()
    rows = rest.locator("tbody tr")
    assert rows.first.is_visible()
    rest.scroll_into_view_if_needed()
    shown = team.locator("table.cells tbody tr").count()
    assert summary.startswith(f"Show all {shown} teams")
    page.screenshot(path=str(shots / "3-show-all.png"))
    page.screenshot(path=str(shots / "4-whole-page.png"), full_page=True)
    assert complaints == []

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(phone, site, ROLE_HOLDERS["analyst"], mfa=True)
    phone.goto(f"{site}/")
    phone.screenshot(path=str(shots / "5-phone.png"))
    assert not _overflows(phone), "the page needs a horizontal scroll bar on a phone"
    assert all(
        (shots / name).stat().st_size > 10_000 for name in ("1-top.png", "3-show-all.png", "5-phone.png")
    )

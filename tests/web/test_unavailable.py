"""When the installation is misconfigured (its governance database cannot be opened), every page
answers 503 "Temporarily unavailable" with the security headers and nothing of the configuration;
the administrator finds what happened and what to do in the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from teamlens.services import Workspace
from teamlens.settings import Settings
from teamlens.web import create_app


@pytest.mark.parametrize("path", ["/policy", "/policy/notice", "/register", "/audit", "/consultation"])
def test_an_unreachable_governance_database_answers_503_and_the_reason_goes_to_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    ws = Workspace(
        Settings(
            data_dir=tmp_path / "data",
            key_file=tmp_path / "keys" / "pseudonym.key",
            database_url=f"sqlite:///{missing}/governance.sqlite",
        )
    )
    with caplog.at_level(logging.ERROR):
        page = TestClient(create_app(ws)).get(path)
    assert page.status_code == 503
    assert "Temporarily unavailable" in page.text
    assert "the administrator has the details in the log" in page.text
    assert str(tmp_path) not in page.text and "sqlite" not in page.text.lower()
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    logged = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("Cannot open the governance database" in message for message in logged)
    assert any("TEAMLENS_DATABASE_URL" in message for message in logged)  # what to do next

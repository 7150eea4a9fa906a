"""The noise-free mode exists only for tests, and nothing else can reach it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from teamlens.errors import InternalError
from teamlens.privacy.testing import exact_mode, exact_mode_active

SRC = Path(__file__).resolve().parents[3] / "src" / "teamlens"


def test_exact_mode_is_off_by_default_and_only_inside_the_block() -> None:
    assert not exact_mode_active()
    with exact_mode():
        assert exact_mode_active()
        with exact_mode():
            assert exact_mode_active()
        assert exact_mode_active()
    assert not exact_mode_active()


def test_exact_mode_ends_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), exact_mode():
        raise RuntimeError("boom")
    assert not exact_mode_active()


def test_exact_mode_is_refused_when_pytest_is_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pytest")
    with pytest.raises(InternalError) as caught, exact_mode():
        pass
    assert "outside the test suite" in caught.value.message
    assert "bug in teamlens" in caught.value.message
    assert not exact_mode_active()


def test_exact_mode_is_refused_in_a_real_process_without_pytest() -> None:
    script = (
        "import sys\n"
        "from teamlens.errors import InternalError\n"
        "from teamlens.privacy.testing import exact_mode, exact_mode_active\n"
        "assert 'pytest' not in sys.modules\n"
        "try:\n"
        "    with exact_mode():\n"
        "        print('EXACT')\n"
        "except InternalError:\n"
        "    print('REFUSED', exact_mode_active())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "REFUSED False"


def test_nothing_outside_the_privacy_package_names_exact_mode() -> None:
    """No setting, policy field, CLI option or route can switch exact mode on: none mentions it."""
    mentions = sorted(
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if "exact_mode" in path.read_text("utf-8")
    )
    assert mentions, "the scan found nothing, so it is not looking at the source tree"
    assert all(path.startswith("privacy/") for path in mentions), mentions

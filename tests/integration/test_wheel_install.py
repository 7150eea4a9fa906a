"""A built wheel gives a working ``teamlens`` without the Makefile or the source tree.

The wheel is built from the checkout (``pip wheel . --no-deps``) and installed into a fresh
virtual environment, where ``teamlens`` must start, say its version and read its own package
data (the policy template, the page templates). The fresh environment borrows the test
environment's installed dependencies (a ``.pth`` line: this machine cannot download them) but
not its editable teamlens, so only the wheel's files can answer.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import teamlens

ROOT = Path(__file__).resolve().parents[2]


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Every argument is ours: interpreters, pip and the wheel this test just built.
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=240, check=False
    )


def test_a_built_wheel_installs_and_runs_in_a_fresh_environment(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-w", wheels, "-q", cwd=tmp_path)
    if built.returncode != 0 and "hatchling" in built.stderr:
        pytest.skip(f"the build backend (hatchling) cannot be fetched here: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("teamlens-*.whl")

    fresh = tmp_path / "fresh"
    made = run(sys.executable, "-m", "venv", "--without-pip", fresh, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = fresh / "bin" / "python"
    installed = run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        wheel,
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stderr
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
    (Path(site.stdout.strip()) / "borrowed-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )

    where = run(python, "-c", "import teamlens; print(teamlens.__file__)", cwd=tmp_path)
    assert where.stdout.strip().startswith(str(fresh)), where.stdout + where.stderr  # the wheel, not src/
    version = run(fresh / "bin" / "teamlens", "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"teamlens {teamlens.__version__}"
    template = run(fresh / "bin" / "teamlens", "policy", "template", cwd=tmp_path)
    assert template.returncode == 0, template.stderr
    assert "[policy]" in template.stdout
    pages = run(
        python,
        "-c",
        "from teamlens.web.pages import render_api_docs, ApiDocsPage; "
        "print(render_api_docs(ApiDocsPage(())))",
        cwd=tmp_path,
    )
    assert pages.returncode == 0 and "HTTP API" in pages.stdout, pages.stderr
    licence = run(
        python,
        "-c",
        "from importlib.metadata import metadata; print(metadata('teamlens')['License-Expression'])",
        cwd=tmp_path,
    )
    assert licence.stdout.strip() == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")

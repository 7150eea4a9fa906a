"""The package's public surface and size stay as documented."""

from __future__ import annotations

import ast
from pathlib import Path

import teamlens.sources

PACKAGE = Path(teamlens.sources.__file__).parent


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(teamlens.sources) if not name.startswith("_")}
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    assert set(teamlens.sources.__all__) == public - modules
    for name in teamlens.sources.__all__:
        assert getattr(teamlens.sources, name).__doc__


def test_modules_stay_small_and_import_only_what_they_may() -> None:
    allowed = ("teamlens.domain", "teamlens.errors", "teamlens.pseudonymise", "teamlens.sources")
    for path in PACKAGE.glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) <= 400, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("teamlens"):
                assert node.module.startswith(allowed), (path.name, node.module)

"""Attack A10a: the release engine draws no randomness of its own; all noise comes from OpenDP."""

from __future__ import annotations

import ast
from pathlib import Path

PRIVACY = Path(__file__).resolve().parents[3] / "src" / "teamlens" / "privacy"

#: Modules whose samplers are not floating-point-safe or not cryptographically secure.
BANNED = ("random", "numpy", "scipy", "secrets", "torch")


def _banned_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found += [f"{path.name}: {name}" for name in names if name.split(".")[0] in BANNED]
    return found


def test_the_privacy_package_imports_no_sampler_of_its_own() -> None:
    assert list(PRIVACY.glob("*.py")), "the scan is not looking at the privacy package"
    assert _banned_imports(PRIVACY) == []


def test_teeth_the_scan_catches_a_homemade_sampler(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import random\nfrom numpy.random import default_rng\n")
    assert _banned_imports(tmp_path) == ["bad.py: random", "bad.py: numpy.random"]


def test_opendp_is_called_from_one_module() -> None:
    users = sorted(path.name for path in PRIVACY.rglob("*.py") if "opendp" in _imported_tops(path))
    assert users == ["_opendp.py"]


def _imported_tops(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            tops |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            tops.add(node.module.split(".")[0])
    return tops

"""Attack A10a: the release engine draws no randomness of its own; all noise comes from OpenDP.

NumPy and SciPy do the engine's linear algebra and normal tail probabilities; their random
generators (``numpy.random``, SciPy's distributions' ``rvs``) are what is banned, by import and by
attribute, as are the standard library's ``random`` and ``secrets``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PRIVACY = Path(__file__).resolve().parents[3] / "src" / "teamlens" / "privacy"

#: Modules whose samplers are not floating-point-safe or not cryptographically secure.
BANNED = ("random", "secrets", "torch", "numpy.random", "scipy.stats")
#: Attribute names that reach a sampler through an allowed module (``np.random``, ``dist.rvs``).
BANNED_ATTRIBUTES = ("random", "rvs", "default_rng", "RandomState")


def _banned(name: str) -> bool:
    return any(name == banned or name.startswith(f"{banned}.") for banned in BANNED)


def _banned_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
                found.append(f"{path.name}: .{node.attr}")
            found += [f"{path.name}: {name}" for name in names if _banned(name)]
    return sorted(set(found))


def test_the_privacy_package_imports_no_sampler_of_its_own() -> None:
    assert list(PRIVACY.glob("*.py")), "the scan is not looking at the privacy package"
    assert _banned_imports(PRIVACY) == []


def test_teeth_the_scan_catches_a_homemade_sampler(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import random\nfrom numpy.random import default_rng\n")
    assert _banned_imports(tmp_path) == [
        "bad.py: numpy.random",
        "bad.py: numpy.random.default_rng",
        "bad.py: random",
    ]


def test_teeth_the_scan_catches_a_sampler_reached_through_numpy_or_scipy(tmp_path: Path) -> None:
    (tmp_path / "sneaky.py").write_text(
        "import numpy as np\nfrom scipy import stats\nx = np.random.normal(0, 1)\ny = stats.norm.rvs()\n"
        "from numpy import random\n"
    )
    assert _banned_imports(tmp_path) == [
        "sneaky.py: .random",
        "sneaky.py: .rvs",
        "sneaky.py: numpy.random",
        "sneaky.py: scipy.stats",
    ]


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

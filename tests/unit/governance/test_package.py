"""The package keeps its promises about what it exports and what it imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import teamlens.governance as governance

PACKAGE = Path(governance.__file__).parent
ALLOWED_ROOTS = {"teamlens", "sqlalchemy", "alembic", "pyarrow", "cryptography", "__future__"}
FORBIDDEN = (
    "teamlens.store",
    "teamlens.privacy",
    "teamlens.sources",
    "teamlens.services",
    "teamlens.cli",
    "teamlens.web",
    "teamlens.settings",
    "teamlens.pseudonymise",
    "teamlens.synth",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_all_lists_exactly_the_public_names() -> None:
    for name in governance.__all__:
        assert getattr(governance, name) is not None
    public = {name for name in vars(governance) if not name.startswith("_")}
    # Submodules are attributes too; policy_template is both a module and its function.
    submodules = {path.stem for path in PACKAGE.iterdir()} - set(governance.__all__)
    assert public - submodules == set(governance.__all__)


def test_governance_imports_only_domain_errors_and_its_allowed_libraries() -> None:
    stdlib = set(sys.stdlib_module_names)
    for path in sorted(PACKAGE.rglob("*.py")):
        for module in imported_modules(path):
            root = module.split(".")[0]
            assert root in ALLOWED_ROOTS or root in stdlib, f"{path.name} imports {module}"
            assert not module.startswith(FORBIDDEN), f"{path.name} imports {module}"


def test_modules_stay_small() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, f"{path.name} has grown past 400 lines: split it"

"""The import rules of DESIGN.md, the module-size rule of STYLE.md, and honest ``__all__`` lists."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "teamlens"

#: Which teamlens packages each package may import (itself always allowed).
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "errors": set(),
    "settings": {"errors"},
    "pseudonymise": {"domain", "errors"},
    "sources": {"pseudonymise", "domain", "errors"},
    "store": {"domain", "errors"},
    "privacy": {"domain", "errors"},
    "governance": {"domain", "errors", "verify"},
    # The stand-alone verifier a representative runs offline: the standard library and cryptography.
    "verify": set(),
    "synth": {"domain", "errors"},
    # The Spark backend reads the store's files and the sources' rows; privacy stays in services.
    "spark": {"store", "sources", "pseudonymise", "settings", "domain", "errors"},
    "services": {
        "spark",
        "sources",
        "store",
        "privacy",
        "governance",
        "pseudonymise",
        "settings",
        "synth",
        "domain",
        "errors",
        "verify",
    },
    "web": {"services", "domain", "errors"},
    "cli": {"services", "web", "domain", "errors"},
}

#: Heavy third-party dependencies and the only package (or module) that may import each.
HEAVY: dict[str, set[str]] = {
    "opendp": {"privacy"},
    "duckdb": {"store"},
    "sqlalchemy": {"governance"},
    "alembic": {"governance"},
    "fastapi": {"web"},
    "jwt": {"web/oidc.py", "web/demo_idp.py"},
    "typer": {"cli"},
    "pyspark": {"spark"},
    "altair": {"services/report_document.py"},
    "vl_convert": {"services/report_document.py"},
}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _package_of(path: Path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _violations() -> list[str]:
    problems = []
    for path in _modules():
        package = _package_of(path)
        if package == "__init__":
            continue
        relative = path.relative_to(SRC).as_posix()
        for name in _imports(path):
            top, *rest = name.split(".")
            if top == "teamlens" and rest:
                target = rest[0]
                if target != package and target not in ALLOWED[package]:
                    problems.append(f"{relative} imports teamlens.{target}")
            elif top in HEAVY:
                allowed = HEAVY[top]
                if package not in allowed and relative not in allowed:
                    problems.append(f"{relative} imports {top}")
    return problems


def test_every_package_is_covered_by_the_rules() -> None:
    packages = {_package_of(path) for path in _modules()} - {"__init__"}
    assert packages <= set(ALLOWED), f"add rules for {packages - set(ALLOWED)}"


def test_imports_point_one_way() -> None:
    assert _violations() == []


def test_the_rule_checker_catches_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Teeth: a store module importing privacy is reported."""
    fake = tmp_path / "teamlens"
    (fake / "store").mkdir(parents=True)
    (fake / "store" / "bad.py").write_text("from teamlens.privacy import plan_release\nimport opendp\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    assert _violations() == ["store/bad.py imports teamlens.privacy", "store/bad.py imports opendp"]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_module_grows_past_800_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 800


@pytest.mark.parametrize(
    "package",
    [
        "domain",
        "pseudonymise",
        "sources",
        "store",
        "privacy",
        "governance",
        "services",
        "synth",
        "cli",
        "web",
    ],
)
def test_public_api_lists_only_what_exists(package: str) -> None:
    module = importlib.import_module(f"teamlens.{package}")
    exported = getattr(module, "__all__", None)
    assert exported, f"teamlens.{package} has no __all__"
    assert sorted(exported) == sorted(set(exported)), "duplicates in __all__"
    for name in exported:
        assert hasattr(module, name), f"teamlens.{package}.__all__ names missing {name}"
    assert module.__doc__ and len(module.__doc__.strip().splitlines()) >= 2, "package docstring is its map"


def test_the_release_path_loads_no_machine_learning_library() -> None:
    """R9: teamlens is a statistical tool; nothing on the release path may pull in an ML library."""
    import subprocess

    code = (
        "import sys, teamlens.services, teamlens.privacy._opendp\n"
        "ml = {'sklearn', 'torch', 'tensorflow', 'jax'}\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & ml)\n"
        "print(','.join(loaded))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""

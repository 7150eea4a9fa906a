"""Organisations built once per session and handed to every test as a copy of its own.

Building an organisation (synthesise, approve, ingest, release) takes seconds; copying its folder
takes milliseconds. A *recipe* is a function that builds an organisation under a given folder;
``OrgCache`` runs each recipe once per session (per xdist worker) and copies the result for each
test, so no test sees what another test did to its organisation, whatever order they run in.

The copy holds the data folder, the key and every other file of the recipe's folder; the exports
are shared by all copies and must not be changed (copy them first). The cache checks after each
test that the built organisation, exports included, is as it was built, and fails that test if not.

Declare a fixture with ``org_fixture(recipe)`` (see tests/README.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from teamlens import services
from teamlens.services import Workspace

from ..integration.flow_support import Org, build_org

#: Builds an organisation under the folder it is given and returns it.
Recipe = Callable[[Path], Org]


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time: what a write would change."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def close(org: Org) -> None:
    """Release the organisation's database connections (if it opened any)."""
    if "governance" in vars(org.ws):
        org.ws.governance.close()


def copy_org(org: Org, root: Path, target: Path) -> Org:
    """A separate installation under ``target`` holding what ``org`` (built under ``root``) holds.

    Everything under ``root`` is copied except the exports, which the copy shares. Paths of the
    installation that lie under ``root`` (the data folder, key and roles files among the settings,
    the policy file) move to ``target``.
    """
    settings = org.ws.settings
    if settings.database_url is not None:
        raise ValueError("only an organisation whose governance database is in its data folder can be copied")
    root = root.resolve()
    exports = org.exports.resolve()

    def moved(path: Path) -> Path:
        resolved = path.resolve()
        return target / resolved.relative_to(root) if resolved.is_relative_to(root) else path

    target.mkdir(parents=True, exist_ok=True)
    for child in root.iterdir():
        if child == exports:
            continue
        if child.is_dir():
            shutil.copytree(child, target / child.name, ignore=_ignore_exports(exports))
        else:
            shutil.copy2(child, target / child.name)
    changes: dict[str, Any] = {
        name: moved(value) for name, value in settings.model_dump().items() if isinstance(value, Path)
    }
    return Org(Workspace(settings.model_copy(update=changes)), org.exports, org.synth, moved(org.policy_file))


def _ignore_exports(exports: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {name for name in names if (Path(folder) / name).resolve() == exports}

    return ignore


@dataclass
class Built:
    """One recipe's organisation as built: never handed to a test, only copied."""

    name: str
    root: Path
    org: Org
    state: dict[str, tuple[int, int]] = field(default_factory=dict)

    def check_unchanged(self) -> None:
        """Fail when anything under the built folder (exports included) changed since it was built."""
        now = snapshot(self.root)
        changed = sorted(name for name in set(now) | set(self.state) if now.get(name) != self.state.get(name))
        if changed:
            pytest.fail(
                f"the shared organisation {self.name!r} was changed by this test ({', '.join(changed[:5])}): "
                "a test that changes an organisation must change its own copy, and copy the exports "
                "before editing them",
                pytrace=False,
            )


class OrgCache:
    """Each recipe built once, under ``base``; copies of it on request."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._built: dict[str, Built] = {}

    def built(self, recipe: Recipe) -> Built:
        """The recipe's organisation, built on first use."""
        name = f"{recipe.__module__}.{recipe.__qualname__}"
        if name not in self._built:
            root = self._base / f"{len(self._built):02d}-{recipe.__name__}"
            root.mkdir(parents=True)
            org = recipe(root)
            close(org)  # no connection left open on the files that will be copied
            self._built[name] = Built(name, root, org, snapshot(root))
        return self._built[name]

    @contextmanager
    def copy(self, recipe: Recipe, target: Path) -> Iterator[Org]:
        """A copy of the recipe's organisation under ``target``, removed afterwards.

        After the caller is done, the built organisation is checked to be as it was built.
        """
        built = self.built(recipe)
        org = copy_org(built.org, built.root, target)
        try:
            yield org
        finally:
            close(org)
            shutil.rmtree(target, ignore_errors=True)
        built.check_unchanged()


def org_fixture(recipe: Recipe) -> Any:
    """A function-scoped fixture handing each test its own copy of ``recipe``'s organisation.

    In a conftest or test module: ``released_org = org_fixture(build_released)``.
    """

    def fixture(org_cache: OrgCache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
        with org_cache.copy(recipe, tmp_path_factory.mktemp(recipe.__name__)) as org:
            yield org

    fixture.__name__ = recipe.__name__
    fixture.__doc__ = f"A copy of its own, for this test, of: {recipe.__doc__ or recipe.__name__}"
    return pytest.fixture(fixture)


def ingested(root: Path) -> Org:
    """300 synthetic workers over 10 weeks, the template policy approved, their exports ingested."""
    org = build_org(root)
    services.ingest(org.ws, [org.exports], actor="admin")
    return org

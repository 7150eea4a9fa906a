"""Shared set-up for whole-flow tests: a small synthetic organisation under an approved policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from teamlens import services
from teamlens.services import Workspace
from teamlens.settings import Settings
from teamlens.synth import SynthResult

START = dt.date(2025, 12, 29)


@dataclass
class Org:
    """A synthesised organisation, its exports and an installation to ingest them into."""

    ws: Workspace
    exports: Path
    synth: SynthResult
    policy_file: Path


def make_workspace(root: Path) -> Workspace:
    """An installation under ``root`` with its key outside the data folder."""
    return Workspace(Settings(data_dir=root / "data", key_file=root / "keys" / "pseudonym.key"))


def policy_text(**replacements: str) -> str:
    """The template policy, with ``old=new`` text replacements for a test's needs."""
    text = services.template()
    for old, new in replacements.items():
        assert old in text, f"the template no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def approve_policy(ws: Workspace, text: str, path: Path) -> None:
    """Propose ``text`` and approve it for both parties."""
    path.write_text(text, encoding="utf-8")
    info = services.propose(ws, path, actor="analyst")
    info = services.approve(ws, info.policy_id, info.version, party="employer", approver="HR director")
    if info.state != "active":  # a tightening version is active on one party's approval
        services.approve(ws, info.policy_id, info.version, party="representative", approver="Union rep")


def build_org(root: Path, *, people: int = 300, weeks: int = 10, seed: int = 3, approve: bool = True) -> Org:
    """Synthesise exports and set up an installation (approving the template policy unless told not to)."""
    exports = root / "exports"
    synth = services.synthesise(exports, people=people, weeks=weeks, seed=seed, start=START)
    ws = make_workspace(root)
    services.init(ws)
    policy_file = root / "policy.toml"
    if approve:
        approve_policy(ws, policy_text(), policy_file)
    return Org(ws, exports, synth, policy_file)


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder``."""
    return sorted(path for path in folder.rglob("*") if path.is_file())

"""Shared set-up for whole-flow tests: a small synthetic organisation under an approved policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from teamlens import services
from teamlens.cli import main
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


#: The reasons the test installations record for not consulting workers (R5).
NOT_CONSULTED = "Synthetic test installation: there are no workers to consult."


def sign_off(ws: Workspace, policy_id: str, version: int, residual_risk: str = "low") -> None:
    """Sign off the DPIA of a version, as the controller would before it is approved (R4)."""
    services.sign_off_dpia(
        ws,
        policy_id,
        version,
        measures_by="HR director",
        residual_risk=residual_risk,
        dpo_advice="Proceed with the measures in the policy.",
        consultation_reviewed_by="DPO",
        actor="controller",
    )


def approve_policy(ws: Workspace, text: str, path: Path) -> None:
    """Propose ``text`` and approve it for both parties."""
    path.write_text(text, encoding="utf-8")
    info = services.propose(ws, path, actor="analyst")
    if info.state == "draft":  # these tests do not consult: the employer records why (R5)
        services.not_consulted(
            ws, info.policy_id, info.version, party="employer", author="HR director", reason=NOT_CONSULTED
        )
    sign_off(ws, info.policy_id, info.version)
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


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run ``teamlens ARGS`` as the console script does; its exit code and everything it printed."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err

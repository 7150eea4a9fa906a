"""Shared set-up for whole-flow tests: a small synthetic organisation under an approved policy."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


#: The test parties' key files: made once per test process, outside every data folder.
_KEY_FOLDER = Path(tempfile.mkdtemp(prefix="teamlens-party-keys-"))


def signer(ws: Workspace, party: str) -> services.KeyFile:
    """The test party's key, registered in this installation (with both parties witnessing) on first use."""
    if not (_KEY_FOLDER / "employer.key").exists():
        for name in ("employer", "representative", "dpo"):
            services.keys.new_key(_KEY_FOLDER / f"{name}.key", name, f"{name} (test)")
    keys = {
        name: services.keys.load_key(_KEY_FOLDER / f"{name}.key")
        for name in ("employer", "representative", "dpo")
    }
    if services.keys.registered(ws) is None:
        publics = [services.keys.public_path(key.path) for key in keys.values()]
        proposed = services.keys.propose_keys(ws, publics, actor="setup")
        for name, key in keys.items():
            services.keys.confirm_keys(ws, proposed.digest, key, actor=name)
    return keys[party]


def approve_policy(ws: Workspace, text: str, path: Path) -> None:
    """Propose ``text`` and approve it for both parties."""
    path.write_text(text, encoding="utf-8")
    info = services.propose(ws, path, actor="analyst")
    if info.state == "draft":  # these tests do not consult: the employer records why (R5)
        services.not_consulted(
            ws,
            info.policy_id,
            info.version,
            by=signer(ws, "employer"),
            author="HR director",
            reason=NOT_CONSULTED,
        )
    sign_off(ws, info.policy_id, info.version)
    info = services.approve(
        ws, info.policy_id, info.version, by=signer(ws, "employer"), approver="HR director"
    )
    if info.state != "active":  # a tightening version is active on one party's approval
        services.approve(
            ws, info.policy_id, info.version, by=signer(ws, "representative"), approver="Union rep"
        )


def mail_workspace(root: Path, *, after_hours: bool = False) -> Workspace:
    """An installation under ``root`` whose approved policy reads an HR directory and mail headers."""
    ws = make_workspace(root)
    services.init(ws)
    replacements = {
        'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]': (
            'sources = ["hr_directory_csv", "mail_headers"]'
        )
    }
    if after_hours:
        replacements['name = "emails_sent"\nper_week = 100'] = (
            'name = "emails_sent"\nper_week = 100\n\n[[metrics]]\nname = "after_hours_emails"\nper_week = 50'
        )
    approve_policy(ws, policy_text(**replacements), root / "policy.toml")
    return ws


def mbox_message(sender: str, when: dt.datetime, number: int, to: str = "team@example.org") -> str:
    """One mbox message from ``sender`` to ``to`` at ``when`` (UTC), Message-ID numbered ``number``."""
    return (
        f"From {sender} {when:%a %b %d %H:%M:%S %Y}\n"
        f"From: {sender}\nTo: {to}\nDate: {when:%a, %d %b %Y %H:%M:%S +0000}\n"
        f"Message-ID: <m{number}@example.org>\nSubject: x\n\nbody\n\n"
    )


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


def cli_keys(capsys: pytest.CaptureFixture[str], folder: Path) -> dict[str, Path]:
    """Each party makes its key with `teamlens keys new`, then all three confirm the proposed key set."""
    paths = {party: folder / party / f"{party}.key" for party in ("employer", "representative", "dpo")}
    for party, path in paths.items():
        code, out = run_cli(capsys, "keys", "new", "--party", party, "--out", str(path))
        assert code == 0, out
    publics = [str(path.with_name(f"{party}.pub.json")) for party, path in paths.items()]
    code, out = run_cli(capsys, "keys", "propose", *publics)
    assert code == 0, out
    digest = out.split("Proposed key set ")[1][:16]
    for path in paths.values():
        code, out = run_cli(capsys, "keys", "confirm", digest, "--key", str(path))
        assert code == 0, out
    assert "is registered" in out
    return paths


#: Who holds which role in the tests' roles file (none of them is in the synthetic directory).
ROLE_HOLDERS = {
    "analyst": "ann.analyst@example.org",
    "representative": "rob.rep@example.org",
    "dpo": "dora.dpo@example.org",
    "admin": "ivan.it@example.org",
}
#: The ID-token claims of a sign-in with a second factor (RFC 8176 ``amr``).
MFA = {"amr": ["pwd", "mfa"]}


def grant_roles(ws: Workspace) -> Path:
    """Write the tests' roles file beside the installation and have both parties approve it (once).

    The parties approve it by signing a key set that names its hash (the keys stay the same).
    """
    path = ws.settings.data_dir.parent / "roles.toml"
    with_roles = Workspace(ws.settings.model_copy(update={"roles_file": path}))
    if path.exists() and services.mapping_approved(with_roles):
        return path
    path.write_text(
        "".join(f'[{role}]\naddresses = ["{address}"]\n' for role, address in ROLE_HOLDERS.items()),
        encoding="utf-8",
    )
    keys = {party: signer(with_roles, party) for party in ("employer", "representative", "dpo")}
    proposed = services.keys.propose_keys(with_roles, [], actor="setup")
    for party, key in keys.items():
        services.keys.confirm_keys(with_roles, proposed.digest, key, actor=party)
    assert services.mapping_approved(with_roles)
    return path


def analyst_client(ws: Workspace) -> Any:
    """A browser on the web app, signed in as the analyst with a second factor (the reports are theirs)."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from teamlens.web import create_app

    from ..web.replayed_idp import BASE_URL, CLIENT_ID, CLIENT_SECRET, ISSUER, ReplayedProvider, sign_in

    configured = Workspace(
        ws.settings.model_copy(
            update={
                "roles_file": grant_roles(ws),
                "oidc_issuer": ISSUER,
                "oidc_client_id": CLIENT_ID,
                "oidc_client_secret": SecretStr(CLIENT_SECRET),
                "web_base_url": BASE_URL,
            }
        )
    )
    idp = ReplayedProvider()
    client = TestClient(create_app(configured, idp_transport=idp.transport()), base_url=BASE_URL)
    assert sign_in(client, idp, ROLE_HOLDERS["analyst"], claims=MFA).status_code == 303
    return client


def dpo_fulfils(ws: Workspace, email: str, kind: str, out: Path | None = None) -> services.Fulfilled:
    """A request handled off-line: the DPO opens it, the representative countersigns, the DPO fulfils."""
    dpo, rep = signer(ws, "dpo"), signer(ws, "representative")
    made = services.offline_request(ws, email, kind, reference="SAR-2026-001", by=dpo, actor="Dana (DPO)")
    services.countersign_request(ws, made.request_id, by=rep, actor="Rob (rep)")
    return services.fulfil_request(ws, made.request_id, by=dpo, actor="Dana (DPO)", out=out)

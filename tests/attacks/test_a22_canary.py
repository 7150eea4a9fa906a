"""A22 — leaks through logs, files, errors and outputs, found with a canary worker.

A worker ``CANARY-<uuid>`` (address, display name, employee and user ids all carrying the uuid)
with 987,654,321 e-mails and chat messages in every week goes through everything: ingest, noisy
releases, the HTML report, the web app, the CLI; and forced failures: a malformed export holding
the canary's row (a bad number, then a truncated row), an over-budget refusal, an unreachable
governance database. Then every file under the data folder and the output folder, the logs
(captured at DEBUG), stdout/stderr, every HTTP response and every error message are searched for
the uuid, the canary's address and the raw value. Pass: no hit (the raw store may hold the value
only as a binary integer, never as text). Teeth: with an unkeyed, identity "pseudonymiser" the
same search finds the canary in the data folder.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.errors import BudgetExceeded, ConfigError, TeamlensError
from teamlens.services import Workspace
from teamlens.settings import Settings

from ..integration.flow_support import analyst_client, approve_policy, files_under, policy_text
from .conftest import install

VALUE = "987654321"


@dataclass
class Canary:
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def name(self) -> str:
        return f"CANARY-{self.token}"

    @property
    def email(self) -> str:
        return f"canary-{self.token}@example.org"

    @property
    def markers(self) -> list[str]:
        return [self.token, self.token.upper(), self.email, VALUE, self.name]


def _append_row(path: Path, values: dict[str, str], bom: bool) -> None:
    encoding = "utf-8-sig" if bom else "utf-8"
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    template = dict(zip(header, rows[1], strict=True))
    template.update(values)
    rows.append([template[column] for column in header])
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\r\n" if bom else "\n").writerows(rows)


def plant(exports: Path, canary: Canary) -> None:
    """Add the canary to the HR directory and to every weekly report."""
    _append_row(
        exports / "hr" / "directory.csv",
        {
            "Employee ID": canary.name,
            "Email": canary.email,
            "Display Name": canary.name,
            "Valid From": "2020-01-06",
            "Valid To": "",
        },
        bom=False,
    )
    for report in sorted((exports / "m365").glob("EmailActivityUserDetail_*.csv")):
        _append_row(
            report,
            {
                "User Principal Name": canary.email,
                "Display Name": canary.name,
                "Send Count": VALUE,
                "Receive Count": VALUE,
            },
            bom=True,
        )
    for report in sorted((exports / "m365").glob("TeamsUserActivityUserDetail_*.csv")):
        _append_row(
            report,
            {
                "User Principal Name": canary.email,
                "User Id": canary.name,
                "Team Chat Message Count": VALUE,
                "Private Chat Message Count": VALUE,
            },
            bom=True,
        )


def _broken_copies(exports: Path, canary: Canary, folder: Path) -> list[Path]:
    """Two malformed exports whose broken row is the canary's."""
    folder.mkdir()
    source = sorted((exports / "m365").glob("EmailActivityUserDetail_*.csv"))[0]
    text = source.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    canary_line = next(i for i, line in enumerate(lines) if canary.email in line)
    bad_number = folder / "EmailActivityUserDetail_bad.csv"
    bad_number.write_text("\ufeff" + text.replace(f",{VALUE},", f",{VALUE}x,", 1), encoding="utf-8")
    truncated = folder / "EmailActivityUserDetail_cut.csv"
    truncated.write_text("\ufeff" + "".join(lines[:canary_line]) + lines[canary_line][:60], encoding="utf-8")
    return [bad_number, truncated]


def run_everything(root: Path, exports: Path, canary: Canary, capsys, caplog) -> list[tuple[str, bytes]]:
    """The whole pipeline with failures; returns every haystack (name, bytes) to search."""
    caplog.set_level(logging.DEBUG)
    haystacks: list[tuple[str, bytes]] = []
    errors: list[str] = []
    installation = install(root / "install", exports)
    ws = installation.ws
    data = str(ws.settings.data_dir)
    out = root / "out"
    out.mkdir()
    # Releases, report, web.
    services.release(ws, "department-monthly", ["2026-01"], actor="analyst")
    services.release(ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    policy, tables = services.released_tables(ws)
    services.write_report(policy, tables, out / "report.html")
    client = analyst_client(ws)  # signed in: the reports must show their figures, without a canary
    for url in ("/", "/api/releases", "/healthz", "/api/openapi.json", "/no-such-page"):
        response = client.get(url)
        haystacks.append((f"GET {url}", response.content + str(response.headers).encode()))
    # The CLI, successes and failures alike.
    for argv in (
        ["ingest", str(exports), "--data-dir", data, "--key-file", str(ws.settings.key_file), "--json"],
        ["release", "department-monthly", "-w", "2026-01", "--json", "--data-dir", data],
        ["release", "team-quarterly", "-w", "2026-Q1", "--data-dir", data],
        ["report", "--out", str(out / "cli-report.html"), "--data-dir", data],
        ["audit", "show", "--json", "--limit", "1000", "--data-dir", data],
        ["audit", "verify", "--data-dir", data],
        ["policy", "show", "--json", "--data-dir", data],
    ):
        try:
            main(argv)
        except SystemExit as done:
            errors.append(f"{argv[0]} exit {done.code}")
    # Forced failures: malformed exports holding the canary's row.
    for broken in _broken_copies(exports, canary, root / "broken"):
        with pytest.raises(TeamlensError) as failure:
            services.ingest(ws, [broken], actor="admin")
        errors.append(str(failure.value))
        with pytest.raises(SystemExit):
            main(["ingest", str(broken), "--data-dir", data, "--key-file", str(ws.settings.key_file)])
    # An over-budget refusal.
    active = ws.governance.require_active_policy("canary").policy
    tighter = policy_text(**{f"version = {active.version}": f"version = {active.version + 1}"})
    tighter = re.sub(r'^rho = "[^"]+"', f'rho = "{active.rho.value / 1000}"', tighter, flags=re.M)
    approve_policy(ws, tighter, root / "tighter.toml")
    with pytest.raises(BudgetExceeded) as refused:
        services.release(ws, "department-monthly", ["2026-02"], actor="analyst")
    errors.append(str(refused.value))
    with pytest.raises(SystemExit):
        main(["release", "department-monthly", "-w", "2026-03", "--data-dir", data])
    # The governance database unreachable in the middle of things.
    gone = Workspace(
        Settings(
            data_dir=ws.settings.data_dir,
            key_file=ws.settings.key_file,
            database_url=f"sqlite:///{root}/no/such/folder/governance.sqlite",
        )
    )
    with pytest.raises(ConfigError, match="Cannot open the governance database") as down:
        services.ingest(gone, [exports], actor="admin")
    errors.append(str(down.value))
    captured = capsys.readouterr()
    haystacks += [
        ("stdout", captured.out.encode()),
        ("stderr", captured.err.encode()),
        ("logs", caplog.text.encode()),
        ("errors", "\n".join(errors).encode()),
    ]
    haystacks += [(str(path), path.read_bytes()) for path in files_under(ws.settings.data_dir)]
    haystacks += [(str(path), path.read_bytes()) for path in files_under(out)]
    return haystacks


def sightings(haystacks: list[tuple[str, bytes]], markers: list[str]) -> list[str]:
    """Which haystacks contain which marker (case-insensitive for identifiers)."""
    hits = []
    for name, content in haystacks:
        lowered = content.lower()
        for marker in markers:
            if marker.lower().encode() in lowered:
                hits.append(f"{marker[:14]}… in {name}")
    return hits


@pytest.mark.attack("A22")
def test_a22_the_canary_appears_nowhere(small_exports: Path, tmp_path: Path, capsys, caplog, measure) -> None:
    canary = Canary()
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    plant(exports, canary)
    haystacks = run_everything(tmp_path, exports, canary, capsys, caplog)
    hits = sightings(haystacks, canary.markers)
    measure(a22_haystacks=len(haystacks), a22_bytes_searched=sum(len(c) for _, c in haystacks), a22_hits=hits)
    assert len(haystacks) > 15
    assert hits == []


@pytest.mark.attack("A22", teeth=True)
def test_a22_teeth_without_pseudonymisation_the_canary_is_found(
    small_exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = Canary()
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    plant(exports, canary)
    monkeypatch.setattr(
        Workspace, "pseudonymiser", lambda self: lambda identifier: identifier.strip().lower()
    )
    installation = install(tmp_path / "install", exports)
    haystacks = [(str(p), p.read_bytes()) for p in files_under(installation.ws.settings.data_dir)]
    assert sightings(haystacks, canary.markers) != []

"""The command line: thin wrappers whose errors end in a message, a hint and an exit code."""

from __future__ import annotations

import importlib.metadata
import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from teamlens.cli import main

from ...integration.flow_support import cli_keys


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEAMLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TEAMLENS_KEY_FILE", str(tmp_path / "key" / "pseudonym.key"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def test_template_prints_a_policy_that_parses(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "template")
    assert code == 0
    assert tomllib.loads(out)["policy"]["min_group_size"] >= 5


def test_ingest_without_a_policy_exits_3_with_a_hint(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init")[0] == 0
    code, _, err = run(capsys, "ingest", str(env))
    assert code == 3
    assert "no approved policy" in err
    assert "Hint:" in err
    assert "teamlens policy propose" in err


def test_the_whole_flow_through_the_cli(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init")[0] == 0
    assert run(capsys, "synth", str(env / "exports"), "--people", "120", "--weeks", "5")[0] == 0
    keys = cli_keys(capsys, env / "own-machines")
    employer, representative = str(keys["employer"]), str(keys["representative"])
    policy = env / "policy.toml"
    policy.write_text(run(capsys, "policy", "template")[1])
    code, out, _ = run(capsys, "policy", "propose", str(policy))
    assert code == 0
    assert "version 1" in out
    policy_id = tomllib.loads(policy.read_text())["policy"]["id"]
    code, _, err = run(capsys, "policy", "approve", policy_id, "1", "--key", employer, "--name", "HR")
    assert code != 0
    assert "teamlens policy not-consulted" in err
    code, out, _ = run(
        capsys,
        "policy",
        "not-consulted",
        policy_id,
        "1",
        "--because",
        "A trial on synthetic data.",
        "--name",
        "HR",
        "--key",
        employer,
    )
    assert code == 0
    code, out, _ = run(capsys, "policy", "approve", policy_id, "1", "--key", employer, "--name", "HR")
    assert "proposed" in out or "approved" in out
    code, _, err = run(capsys, "policy", "approve", policy_id, "1", "--key", representative, "--name", "Rep")
    assert code != 0
    assert "teamlens docs signoff" in err
    code, out, _ = run(
        capsys,
        "docs",
        "signoff",
        policy_id,
        "1",
        "--measures-by",
        "HR director",
        "--residual-risk",
        "low",
        "--dpo-advice",
        "Proceed.",
        "--consultation-reviewed-by",
        "DPO",
    )
    assert code == 0
    assert "Signed off the DPIA" in out
    code, out, _ = run(capsys, "policy", "approve", policy_id, "1", "--key", representative, "--name", "Rep")
    assert "active" in out
    code, out, _ = run(capsys, "ingest", str(env / "exports"))
    assert code == 0
    assert "ingested" in out
    code, out, _ = run(capsys, "release", "department-monthly", "-w", "2026-01", "-m", "emails_sent")
    assert code == 0
    assert "Emails sent" in out
    assert "95% interval" in out and "±" not in out
    assert re.search(r"\d\.\d \(\d+\.\d–\d+\.\d\)|too uncertain at this budget|fewer than 10 people", out)
    assert "charged ρ" in out
    code, out, _ = run(capsys, "release", "department-monthly", "-w", "2026-01", "-m", "emails_sent")
    assert "at no cost" in out
    code, _, err = run(capsys, "release", "person-weekly", "-w", "2026-01")
    assert code == 6
    assert "person-weekly" in err
    code, out, _ = run(capsys, "report", "--out", str(env / "r.html"))
    assert code == 0
    assert "Departments, month by month:" in out and "figures worth reading" in out
    assert "How to read this report" in (env / "r.html").read_text()
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0
    assert "intact" in out


@pytest.mark.parametrize("command", [["serve"], ["demo-serve", "--out", "nowhere"]])
def test_serving_on_a_busy_port_says_so_before_starting_anything(
    env: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(capsys, *command, "--port", str(port))
    assert code == 2
    assert f"port {port} is in use on 127.0.0.1; choose another with --port (or PORT= for make demo)" in err
    assert f"--port {port + 1}" in err
    assert "Serving" not in out and "Traceback" not in err and "Errno" not in err


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out == f"teamlens {importlib.metadata.version('teamlens')}\n"


def test_shell_completion_completes_commands_and_connector_names() -> None:
    teamlens = Path(sys.executable).with_name("teamlens")
    for words, expected in (
        ("teamlens ing", "ingest"),
        ("teamlens ingest --source m365_e", "m365_email_activity"),
    ):
        completing = {"_TEAMLENS_COMPLETE": "complete_bash", "COMP_WORDS": words}
        env = {**os.environ, **completing, "COMP_CWORD": str(len(words.split()) - 1)}
        done = subprocess.run([teamlens], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout.split()

"""The README's tour runs as written, and every "Next:" hint names a command that works then.

A newcomer's first hour: the tour is read out of README.md and run command by command on a
fresh folder (with a fresh home), and must end with a report. Each command the tour runs after a
"Next:" line must be one that line named, so the hints and the README cannot drift apart; and a
second walk follows nothing but the hints (through a consultation this time) from the proposal
to the report, running each hinted command with its placeholders filled in.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from pathlib import Path

import pytest

from teamlens.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
#: The free text and the key files a hint leaves for a person to fill in.
_FREE_TEXT = '"…"'
_PARTIES = ("employer", "representative", "dpo")


def tour_commands() -> list[str]:
    """The README's tour: the shell block under "A tour, command by command", comments dropped."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## A tour, command by command", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def run(capsys: pytest.CaptureFixture[str], line: str) -> tuple[int, str]:
    """Run one shell line of the form ``teamlens ARGS [> FILE]`` as a shell would, in-process."""
    words = shlex.split(line, comments=True)
    out_file = None
    if ">" in words:
        at = words.index(">")
        words, out_file = words[:at], words[at + 1]
    assert words[0] == "teamlens", f"the tour runs only teamlens commands: {line}"
    args: list[str] = []
    for word in words[1:]:
        word = os.path.expanduser(word)
        args.extend(sorted(glob.glob(word)) if "*" in word else [word])
    try:
        main(args)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    if out_file is not None:
        Path(out_file).write_text(captured.out, encoding="utf-8")
    return code, captured.out + captured.err


def hinted(output: str) -> list[str]:
    """Every command a "Next:" line of ``output`` names, in backticks."""
    commands = []
    for line in output.splitlines():
        if line.strip().lower().startswith("next:"):
            commands.extend(re.findall(r"`(teamlens [^`]+)`", line))
    return commands


def matches(hint: str, line: str) -> bool:
    """Whether the tour's ``line`` is the hinted command with its blanks filled in."""
    pattern = re.escape(hint)
    pattern = pattern.replace(re.escape(_FREE_TEXT), '"[^"]+"')
    pattern = re.sub(r"[A-Z]+(?:\\-[A-Z]+)*", r"\\S+", pattern)  # EMPLOYER-KEY, EXPORTS…
    return re.fullmatch(pattern, line.strip()) is not None


@pytest.fixture
def fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder and home, with no teamlens setting from the environment."""
    for name in list(os.environ):
        if name.startswith("TEAMLENS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "100")  # narrow: hints must not be cut by the line width
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_the_readme_tour_runs_as_written_and_each_step_is_the_one_hinted(
    fresh_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = tour_commands()
    assert len(commands) >= 15, "the tour was not found in README.md"
    digest = ""
    hints: list[str] = []
    for line in commands:
        line = line.replace("DIGEST", digest) if digest else line
        if hints:
            assert any(matches(hint, line) for hint in hints), (
                f"the tour runs `{line}` where the previous command said Next: {hints}"
            )
        code, output = run(capsys, line)
        assert code == 0, f"`{line}` failed:\n{output}"
        if " keys propose " in f" {line} ":
            found = re.search(r"Proposed key set ([0-9a-f]{16})", output)
            assert found, output
            digest = found[1]  # the hint shows the start, which is enough
        hints = hinted(output)
    report = (fresh_folder / "report.html").read_text(encoding="utf-8")
    assert "department" in report.lower() and "95%" in report
    assert "Audit log intact" in output


def fill(hint: str, keys: dict[str, Path], exports: Path) -> str:
    """A hinted command with a person's blanks filled: key files, free text, the exports folder."""
    for party, path in keys.items():
        hint = hint.replace(f"{party.upper()}-KEY", str(path))
    return hint.replace(_FREE_TEXT, '"Filled in by the test."').replace("EXPORTS", str(exports))


def test_following_nothing_but_the_hints_leads_from_a_proposal_to_a_report(
    fresh_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for line in tour_commands()[:3]:  # the exports, the policy file and the installation
        assert run(capsys, line)[0] == 0
    keys = {party: Path.home() / "keys" / f"{party}.key" for party in _PARTIES}
    for party, path in keys.items():
        assert run(capsys, f"teamlens keys new --party {party} --out {path}")[0] == 0
    publics = " ".join(str(path.with_name(f"{party}.pub.json")) for party, path in keys.items())
    code, output = run(capsys, f"teamlens keys propose {publics}")
    assert code == 0, output
    for path in keys.values():  # the hint leaves YOUR-KEY to each holder
        code, confirmed = run(capsys, hinted(output)[0].replace("YOUR-KEY", str(path)))
        assert code == 0, confirmed
    output = confirmed
    walked = []
    commented = False
    while "report" not in " ".join(walked[-1:]):
        assert hinted(output), f"no Next: after `{walked[-1] if walked else 'keys confirm'}`:\n{output}"
        command = fill(hinted(output)[0], keys, fresh_folder / "exports")
        walked.append(command)
        assert len(walked) < 15, f"the hints go round in circles: {walked}"
        code, output = run(capsys, command)
        assert code == 0, f"the hinted `{command}` failed:\n{output}"
        if " policy consult " in command and not commented:
            # A worker's view arrives: `policy list` then says the employer must answer it first.
            assert run(capsys, "teamlens policy comment collaboration-2026h1 1 --text 'Why weekly?'")[0] == 0
            code, output = run(capsys, "teamlens policy list")
            output = output.replace("  next:", "Next:")
            commented = True
    words = [command.split() for command in walked]
    steps = [" ".join(w[1:3] if w[1] in ("policy", "docs") else w[1:2]) for w in words]
    assert steps == [
        "policy propose",
        "policy consult",
        "policy respond",
        "docs signoff",
        "policy approve",
        "policy approve",
        "ingest",
        "release",
        "report",
    ]
    assert (fresh_folder / "report.html").is_file()

"""docs/cli.md is generated from the commands' own --help and must match them.

Regenerate with `TEAMLENS_UPDATE_DOCS=1 .venv/bin/python -m pytest tests/unit/cli/test_cli_reference.py`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer.main
from typer.testing import CliRunner

from teamlens.cli import app
from teamlens.cli import commands as _commands  # noqa: F401  (registers every command)

# A fixed width and no colour, so the reference reads the same on every machine.
_PLAIN = {
    "COLUMNS": "100",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "TEAMLENS_DATA_DIR": "",
    "TEAMLENS_KEY_FILE": "",
}
DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    if hasattr(command, "commands"):  # typer's groups are not click.Group subclasses
        for name in sorted(command.commands):
            found.extend(_walk(command.commands[name], [*path, name]))
    return found


def render_reference() -> str:
    """Every command's help, in the order a reader meets them."""
    root = typer.main.get_command(app)
    parts = [
        "# Command-line reference\n",
        "Generated from `teamlens … --help` by `tests/unit/cli/test_cli_reference.py`; "
        "do not edit by hand.\n",
    ]
    runner = CliRunner()
    for path, _command in _walk(root, ["teamlens"]):
        result = runner.invoke(app, [*path[1:], "--help"], prog_name="teamlens", env=_PLAIN)
        text = "\n".join(line.rstrip() for line in result.output.splitlines()).strip("\n")
        parts.append(f"\n## `{' '.join(path)}`\n\n```text\n{text.rstrip()}\n```\n")
    return "".join(parts)


def test_the_cli_reference_matches_the_commands() -> None:
    expected = render_reference()
    if os.environ.get("TEAMLENS_UPDATE_DOCS"):
        DOC.write_text(expected, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == expected, "regenerate docs/cli.md (see this module's docstring)"


def test_every_command_has_a_one_line_summary() -> None:
    root = typer.main.get_command(app)
    for path, command in _walk(root, ["teamlens"]):
        assert command.help and command.help.strip(), f"{' '.join(path)} has no help"

"""Options shared by many commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar="TEAMLENS_DATA_DIR", help="Folder holding the installation's data."),
]
KeyFile = Annotated[
    Path | None,
    typer.Option(
        "--key-file", envvar="TEAMLENS_KEY_FILE", help="Pseudonymisation key file (outside the data)."
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
Actor = Annotated[str, typer.Option("--as", help="Who is acting (recorded in the audit log).")]
KeyOption = Annotated[
    Path,
    typer.Option(
        "--key", help="Your private key file (from `teamlens keys new`): the key, not a name, says who acts."
    ),
]

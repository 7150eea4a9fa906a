"""The administrator's lever on analysts' personal API tokens: revoke them all at once."""

from __future__ import annotations

import typer

from teamlens import services
from teamlens.cli.app import app, console
from teamlens.cli.options import DataDir

tokens_app = typer.Typer(
    help="Analysts' personal API tokens for the HTTP API (each analyst makes and revokes theirs on /tokens).",
    no_args_is_help=True,
)
app.add_typer(tokens_app, name="api-tokens")


@tokens_app.command("revoke-all")
def revoke_all(data_dir: DataDir = None) -> None:
    """Revoke every analyst's API token at once (a leak, or the end of a project); sessions are unaffected."""
    ws = services.open_workspace(data_dir)
    count = services.api_tokens.revoke_all(ws)
    console.print(
        f"Revoked {count} live API token{'s' if count != 1 else ''}; analysts can make new ones on /tokens."
    )

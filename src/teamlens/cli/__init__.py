"""The `teamlens` command line: each command parses options and calls one service function.

``app.py`` holds the Typer apps and :func:`main` (errors → message, hint, exit code);
``commands.py`` the data commands; ``policy_commands.py`` the policy lifecycle; ``options.py``
the shared options; ``render.py`` the Rich tables and JSON.
"""

from teamlens.cli.app import app, main

__all__ = ["app", "main"]

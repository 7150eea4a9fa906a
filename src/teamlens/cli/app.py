"""The `teamlens` command: thin wrappers over ``teamlens.services``."""

from __future__ import annotations

import importlib.metadata
import socket
import sys
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.text import Text

from teamlens.errors import ConfigError, TeamlensError

app = typer.Typer(
    name="teamlens",
    help="Team-level collaboration insight that no one can turn into per-worker surveillance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(
    help="Write, propose, approve and suspend processing policies.", no_args_is_help=True
)
audit_app = typer.Typer(help="Read and verify the hash-chained audit log.", no_args_is_help=True)
store_app = typer.Typer(help="Check the fact store.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(store_app, name="store")
app.add_typer(audit_app, name="audit")

# Soft wrap: a line holding a command or a path is never broken by teamlens, only by the terminal,
# so what is copied from it (or piped into a log) runs as printed.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def installed_version() -> str:
    """The installed package's version (the source tree's when teamlens runs uninstalled)."""
    try:
        return importlib.metadata.version("teamlens")
    except importlib.metadata.PackageNotFoundError:
        from teamlens import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"teamlens {installed_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Team-level collaboration insight that no one can turn into per-worker surveillance."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning teamlens errors into a message, a hint and an exit code."""
    args = argv if argv is not None else sys.argv[1:]
    if args != ["--version"]:  # the version alone needs none of the commands' imports
        from teamlens.cli import commands  # noqa: F401  (registers the commands)

    try:
        # Without standalone mode click returns a typer.Exit code instead of exiting with it.
        code = app(args=args, standalone_mode=False)
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except TeamlensError as error:
        err_console.print(
            Text.assemble(("Error: ", "bold red"), error.message), highlight=False, soft_wrap=True
        )
        if error.hint:
            err_console.print(
                Text.assemble(("Hint: ", "yellow"), error.hint), highlight=False, soft_wrap=True
            )
        raise SystemExit(error.exit_code) from None
    # Typer 0.2x carries its own copy of click: its exceptions are not click's, so catch both.
    except (click.exceptions.Exit, typer.Exit) as done:
        raise SystemExit(done.exit_code) from None
    except (click.ClickException, typer.TyperException) as usage:
        show = getattr(usage, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(str(usage), highlight=False)
        raise SystemExit(usage.exit_code) from None
    except (click.exceptions.Abort, typer.Abort):
        err_console.print("Aborted.")
        raise SystemExit(1) from None


def require_free_port(host: str, port: int) -> None:
    """Refuse, before anything starts, to serve on a port another program already listens on."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as error:
        raise ConfigError(
            f"Cannot serve on {host}: {error.strerror or error}.",
            "Give an address of this machine with --host.",
        ) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself will
        try:
            probe.bind(address)
        except OSError:
            raise ConfigError(
                f"port {port} is in use on {host}; choose another with --port (or PORT= for make demo).",
                f"For example `teamlens serve --port {port + 1}`, or `make demo PORT={port + 1}`.",
            ) from None

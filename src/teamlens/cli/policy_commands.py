"""Commands for the policy lifecycle."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from teamlens import services
from teamlens.cli.app import console, policy_app
from teamlens.cli.options import Actor, DataDir, Json
from teamlens.cli.render import to_json


class Party(enum.StrEnum):
    """The two parties whose approvals a policy needs."""

    EMPLOYER = "employer"
    REPRESENTATIVE = "representative"


PartyOption = Annotated[Party, typer.Option("--party", help="Which side you act for.")]


@policy_app.command("template")
def template() -> None:
    """Print a complete, commented example policy to start from."""
    typer.echo(services.template(), nl=False)


@policy_app.command("propose")
def propose(
    file: Annotated[Path, typer.Argument(help="The policy TOML file.")],
    data_dir: DataDir = None,
    actor: Actor = "analyst",
) -> None:
    """Record a policy file as a new proposed version; nothing runs until both parties approve it."""
    info = services.propose(services.open_workspace(data_dir), file, actor=actor)
    console.print(f"Proposed policy {info.policy_id} version {info.version} (sha256 {info.sha256[:16]}…).")
    for warning in info.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    console.print(
        f"Next: `teamlens policy approve {info.policy_id} {info.version} --party employer --name …` "
        "and the same with --party representative."
    )


@policy_app.command("approve")
def approve(
    policy_id: Annotated[str, typer.Argument(help="The policy id.")],
    version: Annotated[int, typer.Argument(help="The version to approve.")],
    party: PartyOption,
    name: Annotated[str, typer.Option("--name", help="The approver's name, as on the record.")],
    data_dir: DataDir = None,
) -> None:
    """Approve a policy version for one party; it becomes active once both parties have approved."""
    info = services.approve(
        services.open_workspace(data_dir), policy_id, version, party=party.value, approver=name
    )
    console.print(f"Policy {info.policy_id} version {info.version} is now {info.state}.")


@policy_app.command("suspend")
def suspend(
    policy_id: Annotated[str, typer.Argument(help="The policy id.")],
    party: PartyOption,
    data_dir: DataDir = None,
    actor: Actor = "representative",
) -> None:
    """Stop all ingestion and releases at once; either party may do this alone."""
    info = services.suspend(services.open_workspace(data_dir), policy_id, party=party.value, actor=actor)
    console.print(f"Policy {info.policy_id} version {info.version} is now {info.state}.")


@policy_app.command("show")
def show(data_dir: DataDir = None, json_output: Json = False) -> None:
    """Show the active policy, or say that teamlens is off."""
    active = services.active(services.open_workspace(data_dir))
    if active is None:
        console.print("No approved policy: teamlens is off (nothing is ingested or released).")
        return
    if json_output:
        console.print_json(to_json(active))
        return
    policy = active.policy
    console.print(
        f"[bold]{policy.title}[/bold] — {policy.policy_id} v{policy.version}, sha256 {active.sha256}"
    )
    console.print(f"Purpose: {policy.purpose.value}; period {policy.period_start} to {policy.period_end}")
    console.print(
        f"Budget ρ = {float(policy.rho):.4g} per person for the period; minimum group {policy.min_group_size}"
    )
    for report in policy.reports:
        console.print(
            f"  report {report.report_id}: {', '.join(report.metrics)} "
            f"by {report.level}, each {report.cadence}"
        )

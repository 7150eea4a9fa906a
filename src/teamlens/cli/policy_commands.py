"""Commands for the policy lifecycle."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from teamlens import services
from teamlens.cli.app import console, policy_app
from teamlens.cli.options import Actor, DataDir, Json, KeyOption
from teamlens.cli.render import to_json

#: The states in which a version waits for a party's step (``policy list`` says which).
_WAITING = {"draft", "consultation", "proposed", "approved"}


def _next(ws: services.Workspace, policy_id: str, version: int) -> None:
    """Print the step the version now waits for, as a command that succeeds in this state."""
    console.print(f"Next: {services.next_steps.for_version(ws, policy_id, version)}", highlight=False)


@policy_app.command("template")
def template(
    from_directory: Annotated[
        Path | None,
        typer.Option(
            "--from-directory", help="An HR directory export: propose the catalogue its group sizes allow."
        ),
    ] = None,
    target: Annotated[
        float,
        typer.Option(
            "--target", help="With --from-directory: the 95% half-width to meet, e.g. 0.25 for ±25%."
        ),
    ] = 0.25,
    rho: Annotated[
        str | None, typer.Option("--rho", help="With --from-directory: the budget to plan for.")
    ] = None,
) -> None:
    """Print a complete, commented example policy to start from (or one fitted to your directory)."""
    if from_directory is None:
        typer.echo(services.template(), nl=False)
        return
    plan = services.plan_catalogue(
        services.group_sizes(from_directory), target=target, rho=None if rho is None else Fraction(rho)
    )
    typer.echo(plan.text, nl=False)
    if not any(choice.cadence for choice in plan.levels):
        console.print(
            f"[yellow]No level meets ±{target:.0%} at any cadence:[/yellow] "
            "raise the budget (--rho) or the target.",
            highlight=False,
        )


@policy_app.command("propose")
def propose(
    file: Annotated[Path, typer.Argument(help="The policy TOML file.")],
    data_dir: DataDir = None,
    actor: Actor = "analyst",
) -> None:
    """Record a policy file as a new proposed version; nothing runs until both parties approve it."""
    ws = services.open_workspace(data_dir)
    info = services.propose(ws, file, actor=actor)
    console.print(f"Proposed policy {info.policy_id} version {info.version} (sha256 {info.sha256[:16]}…).")
    for warning in info.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    _next(ws, info.policy_id, info.version)


@policy_app.command("approve")
def approve(
    policy_id: Annotated[str, typer.Argument(help="The policy id.")],
    version: Annotated[int, typer.Argument(help="The version to approve.")],
    key: KeyOption,
    name: Annotated[str, typer.Option("--name", help="The approver's name, as on the record.")],
    data_dir: DataDir = None,
) -> None:
    """Approve a policy version with your party's key; it becomes active once both parties have signed."""
    ws = services.open_workspace(data_dir)
    info = services.approve(ws, policy_id, version, by=services.keys.load_key(key), approver=name)
    console.print(f"Policy {info.policy_id} version {info.version} is now {info.state}.")
    if info.state == "active" and info.tightens_version is not None and info.missing_parties:
        console.print(f"One party sufficed: it only narrows version {info.tightens_version} (R3).")
    _next(ws, info.policy_id, info.version)


@policy_app.command("suspend")
def suspend(
    policy_id: Annotated[str, typer.Argument(help="The policy id.")],
    key: KeyOption,
    data_dir: DataDir = None,
    actor: Actor = "representative",
) -> None:
    """Stop all ingestion and releases at once; either party's key may do this alone."""
    ws = services.open_workspace(data_dir)
    info = services.suspend(ws, policy_id, by=services.keys.load_key(key), actor=actor)
    console.print(f"Policy {info.policy_id} version {info.version} is now {info.state}.")


@policy_app.command("lift")
def lift(
    policy_id: Annotated[str, typer.Argument(help="The policy id.")],
    version: Annotated[int, typer.Argument(help="The suspended version.")],
    key: KeyOption,
    data_dir: DataDir = None,
    actor: Actor = "representative",
) -> None:
    """Sign the lifting of a suspension; processing restarts once both parties have signed."""
    ws = services.open_workspace(data_dir)
    info = services.lift(ws, policy_id, version, by=services.keys.load_key(key), actor=actor)
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


PolicyId = Annotated[str, typer.Argument(help="The policy id.")]

Version = Annotated[int, typer.Argument(help="The policy version.")]


@policy_app.command("list")
def list_versions(
    policy_id: Annotated[str | None, typer.Argument(help="Only this policy.")] = None,
    data_dir: DataDir = None,
    json_output: Json = False,
) -> None:
    """List every stored policy version, its state and whose approval is missing."""
    ws = services.open_workspace(data_dir)
    infos = services.versions(ws, policy_id)
    if json_output:
        console.print_json(to_json(infos))
        return
    if not infos:
        console.print("No policy has been proposed yet: see `teamlens policy template`.")
    for info in infos:
        missing = ", ".join(party.value for party in info.missing_parties) or "none"
        console.print(
            f"{info.policy_id} v{info.version}: {info.state} (missing approvals: {missing}; "
            f"sha256 {info.sha256[:16]}…) — {info.title}",
            highlight=False,
        )
        if info.state in _WAITING:
            console.print(f"  next: {services.next_steps.for_version(ws, info.policy_id, info.version)}")


@policy_app.command("consult")
def consult(
    policy_id: PolicyId,
    version: Version,
    key: KeyOption,
    out: Annotated[Path | None, typer.Option(help="Also write the consultation page (HTML) here.")] = None,
    data_dir: DataDir = None,
    actor: Actor = "employer",
) -> None:
    """Publish a draft to workers with its notice and planner figures (signed); views close at signing."""
    ws = services.open_workspace(data_dir)
    result = services.consult(ws, policy_id, version, by=services.keys.load_key(key), actor=actor)
    console.print(f"Policy {policy_id} version {version} is now {result.info.state}.")
    basis = "the directory's group sizes" if result.figures.basis == "directory" else "illustrative sizes"
    console.print(f"Planner figures for {len(result.figures.reports)} reports, at {basis}.")
    if out is not None:
        services.write_document(ws, "consultation", out, policy_id=policy_id, version=version)
        console.print(f"Wrote {out}")
    console.print(
        f"Workers give their views in the web app (/consultation/{policy_id}/{version}, signed in) or with "
        f'`teamlens policy comment {policy_id} {version} --text "…"`.'
    )
    _next(ws, policy_id, version)


@policy_app.command("comment")
def comment(
    policy_id: PolicyId,
    version: Version,
    text: Annotated[str, typer.Option("--text", help="The comment, as it should be recorded.")],
    author: Annotated[str, typer.Option(help="How to sign it (default: anonymous).")] = "",
    objection: Annotated[bool, typer.Option("--objection", help="Record it as an objection.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Record a comment or objection on a proposal in consultation (anyone may)."""
    entry = services.comment(
        services.open_workspace(data_dir), policy_id, version, text=text, author=author, objection=objection
    )
    console.print(f"Recorded your {entry.kind} as entry {entry.entry_id} of the consultation record.")


@policy_app.command("respond")
def respond(
    policy_id: PolicyId,
    version: Version,
    text: Annotated[str, typer.Option("--text", help="The response, with reasons where it departs.")],
    name: Annotated[str, typer.Option("--name", help="Who responds for the employer.")],
    key: KeyOption,
    data_dir: DataDir = None,
) -> None:
    """Record the employer's response to the consultation's views (signed with the employer's key)."""
    ws = services.open_workspace(data_dir)
    services.respond(ws, policy_id, version, by=services.keys.load_key(key), author=name, text=text)
    console.print(f"Recorded the employer's response on policy {policy_id} version {version}.")
    _next(ws, policy_id, version)


@policy_app.command("not-consulted")
def not_consulted(
    policy_id: PolicyId,
    version: Version,
    because: Annotated[str, typer.Option("--because", help="Why workers were not consulted (R5).")],
    name: Annotated[
        str, typer.Option("--name", help="Who records the decision for the employer.")
    ] = "employer",
    *,
    key: KeyOption,
    data_dir: DataDir = None,
) -> None:
    """Record why a draft was not put to consultation (the employer's key signs); the DPIA shows why."""
    ws = services.open_workspace(data_dir)
    signer = services.keys.load_key(key)
    services.not_consulted(ws, policy_id, version, by=signer, author=name, reason=because)
    console.print(
        f"Recorded that policy {policy_id} version {version} was not consulted on, with the reasons."
    )
    _next(ws, policy_id, version)


@policy_app.command("views")
def views(policy_id: PolicyId, version: Version, data_dir: DataDir = None, json_output: Json = False) -> None:
    """Show the consultation record of a version: publication, views and responses."""
    record = services.consultation(services.open_workspace(data_dir), policy_id, version)
    if json_output:
        console.print_json(to_json(record))
        return
    for entry in record.entries:
        text = "(planner figures)" if entry.kind == "published" else entry.text
        console.print(f"#{entry.entry_id} {entry.at:%Y-%m-%d %H:%M} {entry.kind} by {entry.author}: {text}")
    console.print(
        f"{len(record.views)} views, {record.unanswered} unanswered; record sha256 {record.sha256[:16]}…"
    )


@policy_app.command("activate")
def activate(
    policy_id: PolicyId,
    version: Version,
    key: KeyOption,
    data_dir: DataDir = None,
    actor: Actor = "admin",
) -> None:
    """Start a version both parties approved that waited while another policy was in force."""
    ws = services.open_workspace(data_dir)
    info = services.activate(ws, policy_id, version, by=services.keys.load_key(key), actor=actor)
    console.print(f"Policy {info.policy_id} version {info.version} is now {info.state}.")
    _next(ws, policy_id, version)


@policy_app.command("retire")
def retire(
    policy_id: PolicyId,
    version: Version,
    key: KeyOption,
    data_dir: DataDir = None,
    actor: Actor = "admin",
) -> None:
    """End a version for good, or withdraw a draft; either party's key may do this alone."""
    ws = services.open_workspace(data_dir)
    info = services.retire(ws, policy_id, version, by=services.keys.load_key(key), actor=actor)
    console.print(f"Policy {info.policy_id} version {info.version} is now {info.state}.")


@policy_app.command("suggest-bounds")
def suggest_bounds(
    block: Annotated[
        str | None,
        typer.Option(
            "--block", help="The completed clipping block to measure (default: the period's first with data)."
        ),
    ] = None,
    data_dir: DataDir = None,
    actor: Actor = "analyst",
    as_json: Json = False,
) -> None:
    """Measure how busy people are (paid from the policy's bounds_share) and suggest per-week bounds."""
    found = services.suggest_bounds(services.open_workspace(data_dir), block=block, actor=actor)
    if as_json:
        typer.echo(to_json(found))
        return
    console.print(
        f"Measured over {found.block} at ρ = {found.rho:.4g} (release {found.release_id}); "
        f"errors are for a monthly mean of a group of {found.group_size}."
    )
    for item in found.metrics:
        console.print(
            f"{item.label}: bound {item.current:g} → {item.suggested:g} {item.unit}/week "
            f"(median {item.median:.3g}, 90% under {item.p90:.3g}); clips {item.clipped_now:.0%} → "
            f"{item.clipped_suggested:.0%} of activity; ±{item.error_now:.0%} → ±{item.error_suggested:.0%}.",
            highlight=False,
        )
    console.print("To adopt them, put these in a new policy version and have both parties approve it:")
    typer.echo(found.toml())

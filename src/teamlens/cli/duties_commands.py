"""Commands for the data-protection duties: retention (R15), rectification (R21), the union's copy (R25)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from teamlens import services
from teamlens.cli.app import app, console
from teamlens.cli.governance_commands import rights_app
from teamlens.cli.options import Actor, DataDir, KeyOption

retention_app = typer.Typer(
    help="Delete person-level data, released aggregates and ledger once the policy no longer allows them.",
    no_args_is_help=True,
)
app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(data_dir: DataDir = None, actor: Actor = "scheduler") -> None:
    """Delete what the policy's retention no longer allows (run it daily); counts per class are audited.

    Facts go once every catalogue window covering their week is released, and at the latest after
    the policy's retention_days; a finished period's releases, published cells, kept measurements
    and ledger go released_retention_days after the period ends (archived first if the policy says).
    """
    result = services.run_retention(services.open_workspace(data_dir), actor=actor)
    if result.cutoff is None:
        console.print("No policy has ever run, so no data is held: nothing to delete.")
        return
    console.print(
        f"Deleted {result.deleted:,} facts: {result.facts_past_retention:,} dated before {result.cutoff} "
        f"({result.retention_days} days under policy {result.policy_id} v{result.version}) and "
        f"{result.facts_released:,} of weeks whose windows are all released; "
        f"{result.directory_rows:,} directory rows that ended before {result.cutoff}."
    )
    for period in result.periods:
        done = f"archived to {period.archive} and deleted" if period.archive else "deleted"
        console.print(
            f"Period {period.policy_id} from {period.period_start}: "
            f"{period.counts.get('releases', 0)} releases, "
            f"{period.counts.get('report_cells', 0)} published cells, "
            f"{period.counts.get('measurements', 0)} kept measurements and "
            f"{period.counts.get('ledger', 0)} ledger charges {done}."
        )
    if not result.periods:
        console.print("No finished period's released aggregates or ledger are due yet.")
    console.print(
        f"Backups taken before this run expire by {result.backups_clear_by}; then it is gone everywhere."
    )


@app.command("union-export")
def union_export(
    key: KeyOption,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the CSV (and PDF) into.")],
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write a PDF (needs Chromium).")] = True,
    data_dir: DataDir = None,
) -> None:
    """The representative's copy of every figure released in the last 52 weeks (R25), CSV and PDF.

    Only what releases published, exactly as published (objectors are in none of it); nothing is
    charged to the budget. Signed with the representative's key; the request is audited.
    """
    ws = services.open_workspace(data_dir)
    copy = services.union_export.export_signed(ws, by=services.keys.load_key(key), out=out, pdf=pdf)
    console.print(
        f"{len(copy.cells):,} released cells of {copy.since} to {copy.through} written to "
        + ", ".join(str(path) for path in copy.files)
        + "."
    )


@rights_app.command("rectify")
def rectify(
    email: Annotated[str, typer.Option("--email", help="The worker's address, from their verified request.")],
    level: Annotated[str, typer.Option("--level", help="team, department, division or location.")],
    group: Annotated[str, typer.Option("--group", help="The group the worker really belonged to.")],
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day corrected.")],
    key: KeyOption,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="First day no longer corrected.")
    ] = None,
    data_dir: DataDir = None,
    actor: Actor = "dpo",
) -> None:
    """Correct a worker's group (R21), signed by the DPO; windows already released are recomputed, charged.

    What was published before stays published (it cannot be un-released); the recomputed figures
    carry a new release id, and the measurements they need again are charged to the budget.
    """
    done = services.rectification.rectify(
        services.open_workspace(data_dir),
        email,
        level=level,
        group=group,
        start=start.date(),
        end=None if end is None else end.date(),
        by=services.keys.load_key(key),
        actor=actor,
    )
    console.print(f"Corrected {done.rows_changed} directory row(s).")
    if done.release_id is None:
        console.print("Nothing released used those weeks: nothing was recomputed or charged.")
    else:
        console.print(
            f"Recomputed {', '.join(done.windows)} as release {done.release_id}, "
            f"charged ρ = {float(done.rho or 0):.6g}."
        )

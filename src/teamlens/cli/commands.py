"""Commands for setting up, ingesting, releasing and reporting."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from teamlens import services
from teamlens.cli import (  # noqa: F401  (register them)
    duties_commands,
    governance_commands,
    keys_commands,
    policy_commands,
    token_commands,
)
from teamlens.cli.app import app, audit_app, console, require_free_port, store_app
from teamlens.cli.options import Actor, DataDir, Json, KeyFile
from teamlens.cli.render import ingest_outcomes, release_tables, report_summary, to_json


@app.command()
def init(data_dir: DataDir = None, key_file: KeyFile = None) -> None:
    """Create the data folder, the governance database and the pseudonymisation key."""
    result = services.init(services.open_workspace(data_dir, key_file))
    console.print(f"Data folder: {result.data_dir}")
    if result.key_file:
        state = "created" if result.key_created else "already present"
        console.print(f"Pseudonymisation key: {result.key_file} ({state}; keep it outside the data folder)")
    console.print("teamlens is off until both parties approve a policy.")
    console.print(
        "Next: each party makes its signing key on its own machine "
        "(`teamlens keys new --party employer --out ~/keys/employer.key`, the same for the "
        "representative and the DPO), then `teamlens keys propose ~/keys/*.pub.json`.",
        highlight=False,
    )


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the exports to.")],
    people: Annotated[int, typer.Option(help="Number of people.")] = 2000,
    weeks: Annotated[int, typer.Option(help="Number of ISO weeks.")] = 26,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
    concealed: Annotated[bool, typer.Option(help="Write concealed 32-hex user names.")] = False,
) -> None:
    """Write a synthetic organisation's HR directory and Microsoft 365 usage reports."""
    result = services.synthesise(out, people=people, weeks=weeks, seed=seed, concealed=concealed)
    console.print(
        f"Wrote {result.people} people in {result.teams} teams, {result.departments} departments, "
        f"{result.divisions} divisions: {len(result.email_reports)} weeks of reports under {out}"
    )


def _connector_names(incomplete: str) -> list[str]:
    return [name for name in services.connector_names() if name.startswith(incomplete)]


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export files or folders to read.")],
    data_dir: DataDir = None,
    key_file: KeyFile = None,
    actor: Actor = "admin",
    json_output: Json = False,
    strict: Annotated[
        bool | None,
        typer.Option(
            "--strict/--no-strict",
            help="Ingest nothing if a file inside a folder is in no known format (read-me files aside). "
            "Default: on when the output is not a terminal (scripts, cron), off on a terminal.",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            metavar="NAME",
            help="The connector that reads every input, instead of recognising each by its content "
            "(to see what is wrong with a file it passes over).",
            autocompletion=_connector_names,
        ),
    ] = None,
) -> None:
    """Read exports into the store (refused until a policy is approved); each file is atomic.

    Files inside a folder that no connector recognises are passed over and named, with the reason.
    """
    ws = services.open_workspace(data_dir, key_file)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[rows]:,} rows · {task.fields[rate]:,.0f} rows/s"),
        TimeRemainingColumn(),
    )
    began = time.perf_counter()
    strict = not sys.stdout.isatty() if strict is None else strict
    with Progress(*columns, console=console, transient=True, disable=json_output) as progress:
        task = progress.add_task("ingesting", total=None, rows=0, rate=0.0)

        def on_file(path: Path, index: int, total: int, rows: int) -> None:
            rate = rows / max(time.perf_counter() - began, 1e-9)
            progress.update(
                task, description=f"ingesting {path.name}", completed=index, total=total, rows=rows, rate=rate
            )

        summary = services.ingest(ws, paths, actor=actor, on_file=on_file, strict=strict, source=source)
    if json_output:
        console.print_json(to_json(summary))
        return
    ingest_outcomes(console, summary)
    if summary.rows:
        console.print(f"Next: {services.next_steps.after_ingest(ws)}", highlight=False)


@app.command()
def release(
    report_id: Annotated[str, typer.Argument(help="A report id from the approved catalogue.")],
    window: Annotated[list[str], typer.Option("--window", "-w", help="Window key, e.g. 2026-03.")],
    metric: Annotated[list[str] | None, typer.Option("--metric", "-m", help="Only these metrics.")] = None,
    data_dir: DataDir = None,
    actor: Actor = "analyst",
    json_output: Json = False,
) -> None:
    """Release a catalogue report: noisy team means with 95% intervals, charged to the ledger."""
    ws = services.open_workspace(data_dir)
    table = services.release(ws, report_id, window, metrics=metric, actor=actor)
    if json_output:
        console.print_json(to_json(table))
        return
    for grid in release_tables(table):
        console.print(grid)
    if table.repeated:
        earlier = ", ".join(table.published_by)
        charge = f"already released ({'releases' if len(table.published_by) > 1 else 'release'} {earlier}): "
        charge += "the same numbers again, at no cost"
    elif table.rho_charged == 0:
        charge = f"release {table.release_id}, from measurements already made, at no cost"
    else:
        charge = f"charged ρ = {table.rho_charged:.4g} to the period's budget (release {table.release_id})"
    console.print(f"{table.mechanism}; {charge}.")
    console.print(f"Next: {services.next_steps.after_release()}", highlight=False)


@app.command()
def report(
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the report [default: report.html, or report.pdf with --pdf]."),
    ] = None,
    data_dir: DataDir = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print the released cells as JSON (as /api/releases), writing nothing."),
    ] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Write a PDF (printed by headless Chromium).")] = False,
) -> None:
    """Write everything released so far as a self-contained HTML report (costs no budget).

    The report leads with the largest groups and says which figures are worth reading; this
    prints, per released report, how many are.
    """
    ws = services.open_workspace(data_dir)
    policy, tables = services.released_tables(ws)
    if json_output:
        console.print_json(to_json(services.tables_as_json(policy, tables)))
        return
    context = services.build_context(policy, tables)
    out = out or Path("report.pdf" if pdf else "report.html")
    if pdf:
        with tempfile.TemporaryDirectory(prefix="teamlens-report-") as folder:  # the released report only
            services.html_to_pdf(services.save_report(context, Path(folder) / "report.html"), out)
    else:
        services.save_report(context, out)
    console.print(f"Wrote {out}", soft_wrap=True)  # whole lines: paths and titles stay greppable
    for line in report_summary(context):
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


@app.command()
def export(
    report_id: Annotated[str, typer.Argument(help="A released report's id, e.g. department-monthly.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="csv (text cells safe to open in a spreadsheet), parquet, or json (as /api/releases).",
            autocompletion=lambda incomplete: [
                f for f in services.EXPORT_FORMATS if f.startswith(incomplete)
            ],
        ),
    ] = "csv",
    data_dir: DataDir = None,
) -> None:
    """Write one report's released cells to a file (costs no budget): group means, intervals, suppressions.

    Only what was released is written, one row per cell, never a row about a person.
    """
    if fmt not in services.EXPORT_FORMATS:
        raise typer.BadParameter(
            f"'{fmt}' is not one of {', '.join(services.EXPORT_FORMATS)}", param_hint="--format"
        )
    ws = services.open_workspace(data_dir)
    written = services.export_report(ws, report_id, out, fmt)
    console.print(f"Wrote {written} released cells of {report_id} to {out}", soft_wrap=True, highlight=False)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's data and report.")] = Path("demo-output"),
    people: Annotated[int, typer.Option(help="Number of people.")] = 2000,
    weeks: Annotated[int, typer.Option(help="Number of ISO weeks.")] = 26,
) -> None:
    """Build a demo organisation and run the whole flow: policy, approval, ingest, release, report."""
    result = services.run_demo(out, people=people, weeks=weeks)
    steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.timings.items())
    console.print(
        f"Demo organisation of {result.people:,} people: ingested {result.files} files "
        f"({result.rows:,} rows), released {result.releases} reports ({steps})."
    )
    console.print(f"Policy: {result.policy_file}")
    console.print(f"Report: [bold]{result.report}[/bold]")
    console.print(f"DPIA, worker notice, explainer and register: {result.out_dir}/*.html")


@app.command("demo-serve")
def demo_serve(
    out: Annotated[Path, typer.Option(help="The folder `teamlens demo` built.")] = Path("demo-output"),
    port: Annotated[int, typer.Option(help="Port to listen on (on localhost).")] = 8000,
) -> None:
    """Serve a demo with a DEMO-ONLY identity provider on 127.0.0.1, to sign in as every role.

    Refuses any folder `teamlens demo` did not build: the demo provider lets anyone sign in as
    anyone, so it never runs for a real installation (use `teamlens serve` there).
    """
    import uvicorn

    from teamlens.web import create_app
    from teamlens.web.demo_idp import DemoIdentityProvider

    require_free_port("127.0.0.1", port)
    ws, idp = services.demo_workspace(out, port, DemoIdentityProvider)
    console.print(
        f"[bold red]DEMO ONLY[/bold red]: a test identity provider at {idp.issuer} lets anyone sign in."
    )
    console.print(
        f"Open http://localhost:{port}/auth/login and sign in as (tick 'second factor' for the roles):"
    )
    for role, address in services.DEMO_PEOPLE.items():
        page = {"analyst": "/", "representative": "/rep", "dpo": "/dpo", "admin": "/admin"}[role]
        console.print(f"  {role:15} {address:40} then {page}")
    console.print(f"  {'worker':15} {services.demo_worker(out):40} then /me")
    uvicorn.run(create_app(ws), host="127.0.0.1", port=port, log_level="warning")


@app.command()
def serve(
    data_dir: DataDir = None,
    key_file: KeyFile = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app on HOST:PORT: reports, policy, register, audit log, consultation, own data.

    Anyone reaching it reads the policy in force with its notice and explainer (/policy), the
    transparency register (/register), the audit log (/audit) and the proposals open for views
    (/consultation). Everything else needs sign-in through the organisation's identity provider,
    once TEAMLENS_OIDC_* and TEAMLENS_WEB_BASE_URL are set (see docs/worker-sign-in.md): workers
    see their own data at /me, the analyst reads the released reports (/ and /api); until then
    those pages answer 503.
    """
    import uvicorn

    from teamlens.web import create_app

    require_free_port(host, port)
    app = create_app(services.open_workspace(data_dir, key_file))
    console.print(f"Serving teamlens on http://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


@audit_app.command("show")
def audit_show(
    data_dir: DataDir = None,
    limit: Annotated[int, typer.Option(help="How many entries, newest first.")] = 50,
    json_output: Json = False,
) -> None:
    """List the newest audit log entries (no personal data is ever in them)."""
    entries = services.audit_entries(services.open_workspace(data_dir), limit=limit)
    if json_output:
        console.print_json(to_json(entries))
        return
    table = Table(title="Audit log")
    for column in ("seq", "at", "actor", "action", "details"):
        table.add_column(column)
    for entry in entries:
        table.add_row(str(entry.seq), entry.at.isoformat(), entry.actor, entry.action, to_json(entry.details))
    console.print(table)


@store_app.command("verify")
def store_verify(data_dir: DataDir = None, json_output: Json = False) -> None:
    """Check that every file the store's manifest names is present and well-formed (exit 9 if not)."""
    problems = services.verify_store(services.open_workspace(data_dir))
    if json_output:
        console.print_json(to_json({"intact": not problems, "problems": problems}))
    elif not problems:
        console.print("Fact store intact.")
    for problem in [] if json_output else problems:
        console.print(f"[bold red]problem:[/bold red] {problem}", highlight=False)
    if problems:
        raise SystemExit(9)  # not typer.Exit: main() runs click without standalone mode

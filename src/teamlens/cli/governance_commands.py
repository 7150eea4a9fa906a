"""Commands for the documents, the audit log's checkpoints and workers' rights."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from teamlens import services
from teamlens.cli.app import app, audit_app, console
from teamlens.cli.options import Actor, DataDir, Json, KeyFile, KeyOption
from teamlens.cli.render import to_json

docs_app = typer.Typer(
    help="Generate the DPIA, worker notice, explainer and transparency register from the policy.",
    no_args_is_help=True,
)
app.add_typer(docs_app, name="docs")

Out = Annotated[Path, typer.Option("--out", help="The file to write.")]
Pdf = Annotated[bool, typer.Option("--pdf", help="Write PDF (through headless Chromium) instead of HTML.")]
PolicyOption = Annotated[
    str | None, typer.Option("--policy", help="Policy id (default: the active policy, else the newest).")
]
VersionOption = Annotated[int | None, typer.Option("--version", help="Policy version (default: newest).")]


def _write(
    kind: str, out: Path, pdf: bool, data_dir: Path | None, policy: str | None, version: int | None
) -> None:
    ws = services.open_workspace(data_dir)
    written = services.write_document(ws, kind, out, policy_id=policy, version=version, pdf=pdf)
    console.print(f"Wrote {written}")


#: One `teamlens docs KIND` command per document of a policy version, with its one-line help.
_DOCUMENTS = {
    "dpia": "Write the data protection impact assessment (the ICO's seven steps) for a policy version.",
    "notice": "Write the plain-language privacy notice for workers (R16).",
    "explainer": (
        'Write "what your manager can and cannot learn", with worked numbers from the planner (R38).'
    ),
    "consultation": (
        "Write the consultation page: the proposal, its planner figures and the views so far (R5)."
    ),
    "betriebsvereinbarung": (
        "Write the draft works agreement (Betriebsvereinbarung) of a policy under jurisdiction 'de' (R41)."
    ),
}


def _document_command(kind: str) -> Callable[..., None]:
    def command(
        out: Out,
        pdf: Pdf = False,
        data_dir: DataDir = None,
        policy: PolicyOption = None,
        version: VersionOption = None,
    ) -> None:
        _write(kind, out, pdf, data_dir, policy, version)

    command.__doc__ = _DOCUMENTS[kind]
    return command


for _kind in _DOCUMENTS:
    docs_app.command(_kind)(_document_command(_kind))


class ResidualRisk(enum.StrEnum):
    """The residual risk a DPIA sign-off records; "high" blocks activation (UK GDPR Art 36)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@docs_app.command("signoff")
def signoff(
    policy_id: Annotated[str, typer.Argument(help="Policy id.")],
    version: Annotated[int, typer.Argument(help="Policy version whose DPIA is signed off.")],
    measures_by: Annotated[str, typer.Option("--measures-by", help="Who approved the measures.")],
    residual_risk: Annotated[
        ResidualRisk, typer.Option("--residual-risk", help="Residual risk after measures.")
    ],
    dpo_advice: Annotated[str, typer.Option("--dpo-advice", help="The DPO's advice, as given.")],
    consultation_reviewed_by: Annotated[
        str, typer.Option("--consultation-reviewed-by", help="Who reviewed the consultation responses.")
    ],
    overruled_because: Annotated[
        str | None,
        typer.Option("--overruled-because", help="If the DPO's advice was overruled: the reasons."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the signed-off DPIA HTML here.")
    ] = None,
    data_dir: DataDir = None,
    actor: Actor = "controller",
) -> None:
    """Sign off a version's DPIA (ICO step 7): without it the version cannot be approved (R4)."""
    ws = services.open_workspace(data_dir)
    result = services.sign_off_dpia(
        ws,
        policy_id,
        version,
        measures_by=measures_by,
        residual_risk=residual_risk.value,
        dpo_advice=dpo_advice,
        consultation_reviewed_by=consultation_reviewed_by,
        actor=actor,
        overruled_because=overruled_because,
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.dpia_html, encoding="utf-8")
    signed = result.signoff
    console.print(
        f"Signed off the DPIA of '{policy_id}' version {version} (sha256 {signed.dpia_sha256}); "
        f"residual risk {signed.residual_risk}; DPO advice "
        + ("accepted." if signed.advice_accepted else "overruled, with reasons recorded.")
    )
    if signed.residual_risk == "high":
        console.print(
            "A high residual risk blocks activation: consult the ICO first "
            "(prior consultation, UK GDPR Art 36)."
        )
    else:
        console.print(f"Next: {services.next_steps.for_version(ws, policy_id, version)}", highlight=False)


@docs_app.command("register")
def register(out: Out, pdf: Pdf = False, data_dir: DataDir = None) -> None:
    """Write the public transparency register: what runs, roles, releases and budget spent (R17)."""
    _write("register", out, pdf, data_dir, None, None)


scheduler_app = typer.Typer(
    help="The scheduled job: put `teamlens scheduler tick` in cron or a systemd timer (hourly).",
    no_args_is_help=True,
)
app.add_typer(scheduler_app, name="scheduler")


@scheduler_app.command("tick")
def scheduler_tick(data_dir: DataDir = None, actor: Actor = "scheduler") -> None:
    """Run the review-date lapse check (R6) and retention (R15) once; safe to run any number of times.

    Cron: `17 * * * *  teamlens scheduler tick --data-dir /var/lib/teamlens`.
    """
    ws = services.open_workspace(data_dir)
    result = services.tick(ws, actor=actor)
    if result.lapsed is not None:
        console.print(
            f"Policy '{result.lapsed.policy_id}' version {result.lapsed.version} passed its review date "
            "and lapsed; both parties were notified."
        )
    state = (
        "no policy in force"
        if result.active is None
        else f"'{result.active[0]}' v{result.active[1]} in force"
    )
    console.print(f"Scheduler tick: {state}; retention deleted {result.retention.deleted} facts.")
    if result.key_rotation_due:
        console.print(
            "The policy period in force began after the pseudonymisation key was made: nothing is "
            "ingested until it is rotated (`teamlens keys rotate --directory CURRENT-HR-EXPORT.csv`).",
            highlight=False,
        )


notifications_app = typer.Typer(
    help="Messages to workers and the parties: lapse, activation (with the notice version), suspension.",
    no_args_is_help=True,
)
app.add_typer(notifications_app, name="notifications")


class Audience(enum.StrEnum):
    """Who a notification is for."""

    WORKERS = "workers"
    EMPLOYER = "employer"
    REPRESENTATIVE = "representative"


@notifications_app.command("list")
def notifications_list(
    audience: Annotated[
        Audience | None, typer.Option("--audience", help="Only the messages for this audience.")
    ] = None,
    data_dir: DataDir = None,
    json_output: Json = False,
) -> None:
    """List the notifications, oldest first (R6, R16)."""
    ws = services.open_workspace(data_dir)
    found = ws.governance.notifications(None if audience is None else audience.value)
    if json_output:
        console.print_json(to_json(found))
        return
    if not found:
        console.print("No notifications.")
    for n in found:
        notice = (
            f" [notice sha256 {n.notice_sha256}, generated {n.notice_generated_at}]"
            if n.notice_sha256
            else ""
        )
        console.print(escape(f"{n.created_at:%Y-%m-%d %H:%M} to {n.audience} ({n.kind}): {n.text}{notice}"))


@audit_app.command("verify")
def audit_verify(
    data_dir: DataDir = None,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="A checkpoint file you held: also catches truncation.")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The public key you hold, to pin the signer.")
    ] = None,
    json_output: Json = False,
) -> None:
    """Check the audit log's chain (and a held checkpoint), then every period's budget books against it."""
    ws = services.open_workspace(data_dir)
    result = services.audit_checkpoints.verify(ws, checkpoint_file=checkpoint, public_key_file=public_key)
    if json_output:
        console.print_json(to_json({**dataclasses.asdict(result), "checkpoint": checkpoint}))
        if not result.ok:
            raise SystemExit(8)
        return
    if result.ok:
        against = f" and match the checkpoint {checkpoint}" if checkpoint else ""
        console.print(f"Audit log intact: {result.entries} entries verified{against}.")
    else:
        where = f" at entry {result.first_bad_seq}" if result.first_bad_seq else ""
        console.print(
            f"[bold red]Audit log broken[/bold red]{where}: {escape(result.problem)}", highlight=False
        )
    books = services.verify_books(ws)
    for check in books:
        if not check.ok:
            console.print(
                f"[bold red]Budget books do not match the audit log[/bold red] for policy "
                f"{escape(check.policy_id)}, period from {check.period_start.isoformat()}: "
                f"{escape(check.problem)}. "
                "Releases for this period are refused until the governance database is restored "
                "from a backup taken before the change (the mismatch is recorded in the audit log).",
                highlight=False,
            )
    if books and all(check.ok for check in books):
        console.print(
            f"Budget books agree with the audit log's release records for {len(books)} policy period(s)."
        )
    if not result.ok or not all(check.ok for check in books):
        # SystemExit, not typer.Exit: main() runs click with standalone_mode=False, which turns
        # typer.Exit into a return value that main() drops, so the shell would see success.
        raise SystemExit(8)


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option("--out", help="The file to write (JSON lines, one entry each).")],
    data_dir: DataDir = None,
) -> None:
    """Export the whole audit log, signatures included, for `python -m teamlens.verify` to check offline."""
    count = services.audit_checkpoints.export(services.open_workspace(data_dir), out)
    console.print(
        f"Wrote {count} entries to {out}. Check it anywhere: python -m teamlens.verify {out} --trust FPR"
    )


@audit_app.command("keygen")
def audit_keygen(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the key pair (keep it off the data folder).")
    ],
) -> None:
    """Create the Ed25519 key that signs audit checkpoints; give the .pub file to the representative."""
    files = services.audit_checkpoints.keygen(out)
    console.print(f"Private key: {files.private_key} (owner-only; keep it safe)")
    console.print(f"Public key: {files.public_key} — {files.public_hex}")


@audit_app.command("checkpoint")
def audit_checkpoint(
    key: Annotated[Path, typer.Option("--key", help="The private key from `teamlens audit keygen`.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the checkpoint for the representative.")],
    data_dir: DataDir = None,
    actor: Actor = "admin",
) -> None:
    """Sign the audit log's current head; the representative keeps the file to verify against later."""
    signed = services.audit_checkpoints.checkpoint(services.open_workspace(data_dir), key, out, actor=actor)
    console.print(f"Checkpoint of entry {signed.seq} (head {signed.head_hash[:16]}…) written to {out}.")


rights_app = typer.Typer(
    help="Workers' rights requests: made by the worker at /me, or off line by the DPO and the representative "
    "together; the DPO fulfils them with their key.",
    no_args_is_help=True,
)
app.add_typer(rights_app, name="rights")


class RequestKind(enum.StrEnum):
    """What the worker asked for."""

    ACCESS = "access"
    ERASE = "erase"
    OBJECT = "object"


RequestId = Annotated[str, typer.Argument(help="The request's id (`teamlens rights requests`).")]


@rights_app.command("request")
def rights_request(
    email: Annotated[str, typer.Argument(help="The worker's e-mail address (turned into their pseudonym).")],
    kind: Annotated[RequestKind, typer.Option("--kind", help="What the worker asked for.")],
    reference: Annotated[
        str,
        typer.Option(
            "--reference", help="Your reference for their verified request (goes in the audit log)."
        ),
    ],
    key: KeyOption,
    data_dir: DataDir = None,
    key_file: KeyFile = None,
) -> None:
    """Open an off-line request for a worker (the DPO's key); the representative must countersign it.

    Workers make their own requests, and get their own data, by signing in at /me.
    """
    ws = services.open_workspace(data_dir, key_file)
    made = services.offline_request(
        ws, email, kind.value, reference=reference, by=services.keys.load_key(key), actor="dpo"
    )
    console.print(
        f"Opened request {made.request_id} ({made.kind}). The representative checks it with the worker, "
        f"then: `teamlens rights countersign {made.request_id} --key THEIR-KEY`."
    )


@rights_app.command("countersign")
def rights_countersign(request_id: RequestId, key: KeyOption, data_dir: DataDir = None) -> None:
    """Countersign an off-line request with the representative's key, after checking it with the worker."""
    ws = services.open_workspace(data_dir)
    done = services.countersign_request(
        ws, request_id, by=services.keys.load_key(key), actor="representative"
    )
    console.print(f"Countersigned request {done.request_id}: the DPO may now fulfil it.")


@rights_app.command("requests")
def rights_requests(data_dir: DataDir = None, json_output: Json = False) -> None:
    """List every request (never who it is about): id, kind, where it came from, state."""
    found = services.requests(services.open_workspace(data_dir))
    if json_output:
        console.print_json(to_json(found))
        return
    for r in found:
        console.print(f"{r.request_id}  {r.kind:7} {r.origin:8} {r.state:14} {r.created_at:%Y-%m-%d}")
    console.print(f"{len(found)} requests.")


@rights_app.command("fulfil")
def rights_fulfil(
    request_id: RequestId,
    key: KeyOption,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="For an access request: folder for the export (personal data)."),
    ] = None,
    data_dir: DataDir = None,
    key_file: KeyFile = None,
) -> None:
    """Carry out a request with the DPO's key: export (to --out), erase, or record the objection."""
    ws = services.open_workspace(data_dir, key_file)
    done = services.fulfil_request(ws, request_id, by=services.keys.load_key(key), actor="dpo", out=out)
    if done.folder is not None:
        console.print(
            f"Wrote {done.folder}: {done.facts} weekly counts, {len(done.releases)} release windows. "
            "Read summary.txt first; hand it to the worker only."
        )
    elif done.request.kind == "erase":
        console.print(f"Erased {done.removed} rows. Published figures stay (they were released with noise).")
    else:
        console.print("Objection recorded: the worker is left out from the next window on.")


@rights_app.command("exclusions")
def rights_exclusions(key: KeyOption, data_dir: DataDir = None, json_output: Json = False) -> None:
    """Show the exclusion list, to the DPO or the representative on their key's signature (R22)."""
    entries = services.exclusion_list(services.open_workspace(data_dir), by=services.keys.load_key(key))
    if json_output:
        console.print_json(to_json(entries))
        return
    for entry in entries:
        console.print(
            f"{entry.pseudonym}  objected {entry.recorded_at:%Y-%m-%d}, excluded from {entry.effective_from}"
        )
    console.print(f"{len(entries)} entries.")

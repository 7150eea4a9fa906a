"""Commands for the parties' signing keys: make one on your own machine, register it, list them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from teamlens import services
from teamlens.cli.app import app, console
from teamlens.cli.options import DataDir, Json, KeyFile, KeyOption
from teamlens.cli.render import to_json

keys_app = typer.Typer(
    help="The parties' signing keys: every decision a party takes is signed with its own key.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def new(
    party: Annotated[str, typer.Option("--party", help="Whose key: employer, representative or dpo.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the private key (on YOUR machine).")],
    label: Annotated[
        str, typer.Option("--label", help="A name for the key, e.g. 'Works council chair'.")
    ] = "",
    data_dir: DataDir = None,
) -> None:
    """Make a signing key on this machine: the private key (owner-only) and a .pub.json to register.

    Run it on your own computer, never on the server: the key never leaves it. Give the
    .pub.json file to the administrator to propose; compare the fingerprint when you confirm.
    """
    public = services.keys.new_key(out, party, label or party, data_dir=data_dir)
    console.print(f"Private key: {out} (owner-only; keep it on this machine, back it up offline)")
    console.print(f"Public key file: {services.keys.public_path(out.expanduser().resolve())}")
    console.print(f"Fingerprint ({party}): {services.keys.spaced(public.fingerprint)}")


@keys_app.command("propose")
def propose(
    public_files: Annotated[list[Path], typer.Argument(help="The .pub.json files of the keys to add.")],
    drop: Annotated[
        list[str] | None, typer.Option("--drop", help="Fingerprint of a registered key to remove.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Propose a key set: the keys in force plus these; every key holder then confirms it."""
    ws = services.open_workspace(data_dir)
    info = services.keys.propose_keys(ws, public_files, drop=tuple(drop or ()), actor="keys propose")
    console.print(f"Proposed key set {info.digest}.", soft_wrap=True)
    for key in info.statement["keys"]:
        console.print(f"  {key['party']}: {key['label']}")
    console.print(
        "Next: each key holder checks the keys listed and signs with their own key: "
        f"`teamlens keys confirm {info.digest[:16]} --key YOUR-KEY`.",
        highlight=False,
    )


@keys_app.command("confirm")
def confirm(
    digest: Annotated[str, typer.Argument(help="The proposed key set's digest (its start is enough).")],
    key: KeyOption,
    data_dir: DataDir = None,
) -> None:
    """Sign a proposed key set with your key; it is registered once both parties have witnessed it."""
    ws = services.open_workspace(data_dir)
    info = services.keys.confirm_keys(ws, digest, services.keys.load_key(key), actor="keys confirm")
    if info.registered_at is not None:
        console.print(f"Key set {info.digest[:16]}… is registered: it decides from now on.")
        console.print(f"Next: {services.next_steps.after_keys_registered()}", highlight=False)
    else:
        console.print(f"Signed. Key set {info.digest[:16]}… still waits: {info.missing}.")


@keys_app.command("list")
def list_keys(data_dir: DataDir = None, json_output: Json = False) -> None:
    """Show the registered keys with their fingerprints, and any key set waiting for signatures."""
    ws = services.open_workspace(data_dir)
    registered = services.keys.registered(ws)
    if json_output:
        waiting = [info.digest for info in ws.governance.key_sets() if info.registered_at is None]
        keys = [
            {"party": k.party, "kind": k.kind, "label": k.label, "fingerprint": k.fingerprint}
            for k in (registered.keys if registered else ())
        ]
        console.print_json(to_json({"registered": keys, "waiting": waiting}))
        return
    if registered is None:
        console.print("No keys are registered yet: no party can decide anything.")
    else:
        for party_key in registered.keys:
            shown = services.keys.spaced(party_key.fingerprint)
            console.print(f"{party_key.party}: {party_key.kind} '{party_key.label}' {shown}", highlight=False)
    for info in ws.governance.key_sets():
        if info.registered_at is None:
            console.print(f"waiting: key set {info.digest[:16]}… ({info.missing})", highlight=False)


@keys_app.command("rotate")
def rotate(
    directory: Annotated[
        Path, typer.Option("--directory", help="The current HR directory export: who stays.")
    ],
    data_dir: DataDir = None,
    key_file: KeyFile = None,
) -> None:
    """Replace the pseudonymisation key: at each policy period's start, or when the parties ask.

    Everyone the directory lists keeps their objection, rights requests, API tokens and this
    period's data under a new pseudonym; no file ever links the old and the new. Leavers' data and
    facts from before the policy period go. The old key is destroyed; workers sign in again.
    """
    ws = services.open_workspace(data_dir, key_file)
    done = services.key_rotation.rotate(ws, directory, actor="keys rotate")
    store, db = done.store, done.database
    console.print(
        f"New pseudonymisation key {done.new_key[:16]}… in force; key {done.old_key[:16]}… destroyed."
    )
    console.print(
        f"Carried for {done.people} people in the directory: {store.facts} facts, "
        f"{store.directory_rows} directory rows, {db.objections} objections, {db.requests} rights requests, "
        f"{db.view_slots} consultation slots, {db.api_tokens} API tokens.",
        highlight=False,
    )
    since = "" if done.since is None else f" before the period start {done.since}"
    console.print(
        f"Deleted: {store.facts_before_period} facts{since}, {store.facts_of_leavers} facts and "
        f"{store.directory_rows_dropped} directory rows of people no longer listed, "
        f"{db.objections_dropped} objections of leavers; {db.sessions_ended} web sessions ended "
        f"(everyone signs in again), {db.api_tokens_revoked} API tokens revoked.",
        highlight=False,
    )
    console.print(
        "Restart the web app and scheduler now, and give the new key to any Spark executors' "
        "secret store (docs/scaling.md).",
        highlight=False,
    )

"""The whole flow on a synthetic organisation, as `make demo` runs it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teamlens.domain.policy import is_sensitive
from teamlens.services import ingest as ingest_service
from teamlens.services import keys as party_keys
from teamlens.services import policy as policy_service
from teamlens.services.documents import sign_off_dpia, write_document
from teamlens.services.lifecycle import comment, consult, respond
from teamlens.services.release import release_standard_reports, released_tables
from teamlens.services.report_document import write_report
from teamlens.services.setup import init
from teamlens.services.synthetic import synthesise
from teamlens.services.workspace import Workspace
from teamlens.settings import Settings

#: The file `teamlens demo` writes into its data folder: only such a folder may be served with the
#: demo's own identity provider (`teamlens demo-serve`), never a real installation.
DEMO_MARKER = "DEMO-ONLY-INSTALLATION"
#: Who holds each role in the demo (the demo identity provider lets anyone sign in as these).
DEMO_PEOPLE = {
    "analyst": "hr.analyst@demo.teamlens.invalid",
    "representative": "works.council@demo.teamlens.invalid",
    "dpo": "dpo@demo.teamlens.invalid",
    "admin": "it.admin@demo.teamlens.invalid",
}


def demo_settings(out_dir: Path) -> Settings:
    """The demo installation's settings: data, key, and the roles file both demo parties approved."""
    return Settings(
        data_dir=out_dir / "data", key_file=out_dir / "pseudonym.key", roles_file=out_dir / "demo-roles.toml"
    )


def is_demo(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds an installation `teamlens demo` built."""
    return (out_dir / "data" / DEMO_MARKER).exists()


@dataclass
class DemoResult:
    """Where the demo put things and how long each step took."""

    out_dir: Path
    report: Path
    key_files: dict[str, Path]
    policy_file: Path
    settings: Settings
    people: int
    files: int
    rows: int
    releases: int
    timings: dict[str, float] = field(default_factory=dict)


def run_demo(out_dir: Path, *, people: int = 2000, weeks: int = 26, seed: int = 7) -> DemoResult:
    """Synthesise, set up, approve the demo policy, ingest, release the catalogue, write the report."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    out_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(out_dir)
    ws = Workspace(settings)
    if settings.data_dir.exists() and any(settings.data_dir.iterdir()):
        from teamlens.errors import ConfigError

        raise ConfigError(
            f"{settings.data_dir} already holds a teamlens installation.",
            f"Remove {out_dir} (or pass another --out) to build the demo afresh.",
        )
    exports = synthesise(out_dir / "exports", people=people, weeks=weeks, seed=seed, calendar=True)
    lap("synthesise")
    init(ws)
    (settings.data_dir / DEMO_MARKER).write_text("Built by `teamlens demo`: synthetic people only.\n")
    roles = "".join(f'[{role}]\naddresses = ["{address}"]\n' for role, address in DEMO_PEOPLE.items())
    settings.roles_file.write_text(roles, encoding="utf-8")  # type: ignore[union-attr]
    signers = demo_keys(ws, out_dir / "demo-keys")
    policy_file = out_dir / "policy.toml"
    policy_file.write_text(demo_policy(), encoding="utf-8")
    proposed = policy_service.propose(ws, policy_file, actor="hr-analyst")
    _consult(ws, proposed.policy_id, proposed.version, signers["employer"])
    policy_service.approve(
        ws, proposed.policy_id, proposed.version, by=signers["employer"], approver="HR director"
    )
    sign_off_dpia(
        ws,
        proposed.policy_id,
        proposed.version,
        measures_by="HR director",
        # Medium, as the DPIA rates it: the budget's ε and small groups shown on a noisy count.
        residual_risk="medium",
        dpo_advice="Proceed: aggregates only, with the group size and budget in the policy.",
        consultation_reviewed_by="Data protection officer",
        actor="hr-director",
    )
    policy_service.approve(
        ws, proposed.policy_id, proposed.version, by=signers["representative"], approver="Works council chair"
    )
    lap("policy")
    summary = ingest_service.ingest(ws, [out_dir / "exports"], actor="it-admin")
    lap("ingest")
    active = ws.governance.require_active_policy("release statistics").policy
    tables = release_standard_reports(ws, actor="hr-analyst", through=active.period_end)
    lap("release")
    policy, everything = released_tables(ws)
    report = write_report(policy, everything, out_dir / "report.html")
    for kind in ("dpia", "notice", "explainer", "register"):
        write_document(ws, kind, out_dir / f"{kind}.html")
    lap("report")
    return DemoResult(
        out_dir=out_dir,
        report=report,
        key_files={party: key.path for party, key in signers.items()},
        policy_file=policy_file,
        settings=settings,
        people=exports.people,
        files=len(summary.files),
        rows=summary.rows,
        releases=len(tables),
        timings=timings,
    )


#: The metrics the demo adds to the template policy, with their weekly bounds as a policy writes
#: them (hours for time, a share between 0 and 1, counts): the new catalogue's questions that a
#: calendar export and the usage reports can answer.
DEMO_METRICS = {
    "large_meeting_minutes": "10",
    "long_meeting_minutes": "10",
    "recurring_share": "1",
    "heavy_meeting_weeks": "1",
    "double_booked_minutes": "5",
    "focus_minutes": "30",
    "meeting_free_days": "5",
    "after_hours_collaboration_minutes": "10",
    "after_hours_frequent_weeks": "1",
    "weekend_active_days": "2",
    "workweek_span_minutes": "50",
    "manager_one_on_one_minutes": "2",
    "email_users": "1",
    "chat_users": "1",
    "meeting_users": "1",
}


#: The collaboration network of the demo: meeting time between departments, at most 10 hours a
#: person sends (and receives) per week counted (the network's bound B).
NETWORK_METRIC = '[[metrics]]\nname = "network_meeting_minutes"\nper_week = 10\n\n'


def demo_policy() -> str:
    """The template policy with the calendar as a source and the new catalogue in its reports."""
    text = policy_service.template()
    old_sources = 'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]'
    old_metrics = '"chat_messages", "meetings_attended", "meeting_minutes"]'
    catalogue = "# The closed report catalogue"
    if old_sources not in text or text.count(old_metrics) != 2 or catalogue not in text:
        from teamlens.errors import InternalError

        raise InternalError("the policy template changed: the demo policy can no longer be built from it")
    text = text.replace(old_sources, old_sources[:-1] + ', "calendar_ics"]')
    # The department report carries them all; the team report leaves out what tells about time
    # outside work, which is never released per team (R19).
    listed = "".join(f', "{name}"' for name in DEMO_METRICS)
    per_team = "".join(f', "{name}"' for name in DEMO_METRICS if not is_sensitive(name))
    text = text.replace(old_metrics, old_metrics[:-1] + listed + "]", 1)
    text = text.replace(old_metrics, old_metrics[:-1] + per_team + "]", 1)
    blocks = "".join(
        f'[[metrics]]\nname = "{name}"\nper_week = {bound}\n\n' for name, bound in DEMO_METRICS.items()
    )
    text = text.replace(catalogue, blocks + NETWORK_METRIC + catalogue, 1)
    # Room for the organisation's headlines and the network: the template's two reports give some up.
    for old, new in (
        ('budget_share = "0.65"', 'budget_share = "0.45"'),
        ('budget_share = "0.3"', 'budget_share = "0.25"'),
    ):
        if text.count(old) != 1:
            from teamlens.errors import InternalError

            raise InternalError("the policy template changed: the demo policy can no longer be built from it")
        text = text.replace(old, new)
    everything = ", ".join(
        f'"{name}"'
        for name in (
            "emails_sent",
            "emails_received",
            "chat_messages",
            "meetings_attended",
            "meeting_minutes",
            *DEMO_METRICS,
        )
    )
    organisation = (
        '[[reports]]\nid = "organisation-monthly"\ntitle = "The organisation, month by month"\n'
        f'level = "organisation"\ncadence = "month"\nmetrics = [{everything}]\nbudget_share = "0.1"\n\n'
    )
    network = (
        '[[reports]]\nid = "collaboration-network"\ntitle = "Who meets whom, between departments"\n'
        'kind = "network"\nlevel = "department"\ncadence = "quarter"\n'
        'metrics = ["network_meeting_minutes"]\nbudget_share = "0.1"\n\n'
    )
    marker = "# Messages to or from these"
    return text.replace(marker, organisation + network + marker, 1)


def demo_keys(ws: Workspace, folder: Path) -> dict[str, party_keys.KeyFile]:
    """Make and register the demo's three key holders' keys (DEMO ONLY: real parties make their own).

    In a real installation each party runs `teamlens keys new` on their own machine; here one
    process plays them all, so the keys sit in one folder beside (never inside) the data folder.
    """
    labels = {
        "employer": "HR director (demo)",
        "representative": "Works council chair (demo)",
        "dpo": "DPO (demo)",
    }
    for party, label in labels.items():
        party_keys.new_key(folder / f"{party}.key", party, label, data_dir=ws.settings.data_dir)
    loaded = {party: party_keys.load_key(folder / f"{party}.key") for party in labels}
    publics = [party_keys.public_path(key.path) for key in loaded.values()]
    proposed = party_keys.propose_keys(ws, publics, actor="demo")
    for party, key in loaded.items():
        party_keys.confirm_keys(ws, proposed.digest, key, actor=party)
    return loaded


def _consult(ws: Workspace, policy_id: str, version: int, employer: party_keys.KeyFile) -> None:
    """Publish the proposal to workers, record their views and the employer's answer (R5)."""
    consult(ws, policy_id, version, by=employer, actor="hr-analyst")
    comment(
        ws, policy_id, version, author="Team Falcon", text="Please keep team figures quarterly, not weekly."
    )
    comment(
        ws,
        policy_id,
        version,
        author="A worker",
        objection=True,
        text="Meeting hours per team could be read as a judgement on small teams.",
    )
    respond(
        ws,
        policy_id,
        version,
        by=employer,
        author="HR director",
        text="Teams are released quarterly with their intervals, groups under 10 are never shown, and the "
        "policy forbids using any figure about an individual or in performance processes.",
    )


def demo_workspace(out_dir: Path, port: int, provider_factory: Any) -> tuple[Workspace, Any]:
    """The demo installation, signed in through a DEMO-ONLY provider started here (refused elsewhere)."""
    from pydantic import SecretStr

    from teamlens.errors import ConfigError

    if not is_demo(out_dir):
        raise ConfigError(
            f"{out_dir} was not built by `teamlens demo`; the demo identity provider lets anyone sign in "
            "as anyone, so it serves demo folders only.",
            "Run `make demo`, or serve a real installation with `teamlens serve`.",
        )
    people = (*DEMO_PEOPLE.items(), ("worker", demo_worker(out_dir)))
    idp = provider_factory(people=people).start()
    settings = demo_settings(out_dir).model_copy(
        update={
            "oidc_issuer": idp.issuer,
            "oidc_client_id": idp.client_id,
            "oidc_client_secret": SecretStr(idp.client_secret),
            "web_base_url": f"http://localhost:{port}",
        }
    )
    return Workspace(settings), idp


def demo_worker(out_dir: Path) -> str:
    """One worker's address from the demo's HR directory (to sign in as at /me)."""
    import csv

    directory = next((out_dir / "exports").rglob("directory.csv"))
    with directory.open(encoding="utf-8") as handle:
        return next(row["Email"] for row in csv.DictReader(handle))

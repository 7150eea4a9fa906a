"""What to do next, as the exact command that will succeed in the installation's present state.

Every lifecycle command ends with a "Next:" line built here, from the state it has just left
behind (never from the command that ran), so a newcomer following the hints walks the real
sequence: keys, the consultation or the employer's reasons for not consulting, the DPIA's
sign-off, both parties' approvals, ingest, release, report. Commands are in backticks; the words
a person fills in are in capitals (``EMPLOYER-KEY``, ``EXPORTS``) or "…" for free text, so the
tests can fill them and run each hint (``tests/integration/test_readme_tour.py``). The first
command of a hint is the step itself; any later one is an alternative or something to read first.
"""

from __future__ import annotations

import datetime as dt

from teamlens.domain import Cadence, Policy
from teamlens.governance import Party, PolicyState
from teamlens.services.workspace import Workspace

#: The placeholder each party's key file goes by in a hint.
KEY_OF = {party: f"{party.value.upper()}-KEY" for party in Party}


def after_keys_registered() -> str:
    """Once the parties' keys are registered: propose a policy."""
    return (
        "propose a policy: `teamlens policy propose policy.toml` (write it first from "
        "`teamlens policy template > policy.toml`)."
    )


def for_version(ws: Workspace, policy_id: str, version: int) -> str:
    """The step a stored policy version waits for, as a command that succeeds now."""
    info = ws.governance.stored_policy(policy_id, version).info
    ref = f"{policy_id} {version}"
    employer = KEY_OF[Party.EMPLOYER]
    if info.state is PolicyState.ACTIVE:
        return "read exports into the store: `teamlens ingest EXPORTS` (a folder or files)."
    if info.state is PolicyState.APPROVED:
        active = ws.governance.active_policy()
        if active is None:
            return f"start it: `teamlens policy activate {ref} --key {employer}`."
        return (
            f"retire the policy in force (`teamlens policy retire {active.policy_id} {active.version} "
            f"--key {employer}`), then start this one: `teamlens policy activate {ref} --key {employer}`."
        )
    if info.state not in (PolicyState.DRAFT, PolicyState.CONSULTATION, PolicyState.PROPOSED):
        return f"nothing: version {version} is {info.state.value}; propose a new version to change it."
    record = ws.governance.consultation(policy_id, version)
    if info.state is PolicyState.DRAFT and record.not_consulted is None and not info.approvals:
        return (
            f"put it to workers for their views (`teamlens policy consult {ref} --key {employer}`), "
            f'or record why not: `teamlens policy not-consulted {ref} --because "…" --key {employer}`.'
        )
    if record.unanswered:
        return (
            f"the employer answers the {record.unanswered} view(s) received: "
            f'`teamlens policy respond {ref} --text "…" --name "…" --key {employer}`.'
        )
    if ws.governance.dpia_signoff(policy_id, version) is None:
        return (
            f'sign off the DPIA: `teamlens docs signoff {ref} --measures-by "…" --residual-risk low '
            f'--dpo-advice "…" --consultation-reviewed-by "…"`, having read it (`teamlens docs dpia '
            f"--policy {policy_id} --version {version} --out dpia.html`)."
        )
    approvals = " and ".join(
        f'`teamlens policy approve {ref} --key {KEY_OF[party]} --name "…"`' for party in info.missing_parties
    )
    return f"each party approves with its own key: {approvals}."


def after_ingest(ws: Workspace) -> str:
    """Once facts are in: release the first catalogue report for the latest window the data covers."""
    policy = ws.governance.require_active_policy("release statistics").policy
    report = policy.reports[0]
    window = _covered_window(policy, report.cadence, ws.store.stats().months)
    shown = window or "WINDOW"
    return (
        f"release a report of the catalogue: `teamlens release {report.report_id} -w {shown}` "
        "(`teamlens policy show` lists the reports)."
    )


def _covered_window(policy: Policy, cadence: Cadence, months: tuple[str, ...]) -> str | None:
    """The latest window of ``cadence`` the held months cover, preferring one that has ended.

    The store tells months, not days, and the newest month held is usually still filling: a
    window is taken as ended when its last day falls within the newest month's first week (ISO
    windows straddle months); one reaching further is offered only when no other is covered.
    """
    if not months:
        return None
    newest = dt.date.fromisoformat(f"{max(months)}-01")
    candidates = []
    for window in policy.windows(cadence):
        last_day = window.end - dt.timedelta(days=1)
        if {f"{window.start:%Y-%m}", f"{last_day:%Y-%m}"} <= set(months):
            candidates.append((last_day < newest + dt.timedelta(days=7), window.start, window.key))
    return max(candidates)[2] if candidates else None


def after_release() -> str:
    """Once something is released: read it."""
    return (
        "write the report (`teamlens report --out report.html`), or read it in the web app: `teamlens serve`."
    )

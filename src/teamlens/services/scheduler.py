"""The scheduled job: one ``tick`` runs the review-date lapse check (R6) and retention (R15), and says
when the pseudonymisation key is due for its period's rotation (R35).

Run it at least daily; running it more often, or twice, changes nothing more (a policy lapses
once, a fact is deleted once). The line for cron (every hour, as the service's user)::

    17 * * * *  teamlens scheduler tick --data-dir /var/lib/teamlens

or a systemd timer with ``OnCalendar=hourly`` starting ``teamlens scheduler tick``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from teamlens.governance import PolicyVersionInfo
from teamlens.services.key_rotation import rotation_due
from teamlens.services.retention import RetentionResult, run_retention
from teamlens.services.workspace import Workspace

#: The crontab line the documentation gives (hourly; the data folder is the installation's).
CRON_LINE = "17 * * * *  teamlens scheduler tick --data-dir /var/lib/teamlens"


@dataclass(frozen=True)
class TickResult:
    """What one tick did: the version that lapsed now (if any), the policy in force, retention."""

    lapsed: PolicyVersionInfo | None
    active: tuple[str, int] | None
    retention: RetentionResult
    #: The policy period in force began after the key was made: `teamlens keys rotate` is due.
    key_rotation_due: bool = False


def tick(ws: Workspace, *, actor: str = "scheduler", today: dt.date | None = None) -> TickResult:
    """Lapse the active policy if its review date passed (notifying both parties), then run retention."""
    before = {(v.policy_id, v.version): v.state for v in ws.governance.policy_versions()}
    active = ws.governance.active_policy()  # lapses it (and notifies) when its review date has passed
    lapsed = next(
        (
            v
            for v in ws.governance.policy_versions()
            if v.state.value == "lapsed" and before.get((v.policy_id, v.version)) != v.state
        ),
        None,
    )
    retention = run_retention(ws, actor=actor, today=today)
    due = active is not None and rotation_due(ws, active.policy.period_start)
    return TickResult(lapsed, None if active is None else (active.policy_id, active.version), retention, due)

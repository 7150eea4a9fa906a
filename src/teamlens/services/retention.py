"""Retention on one clock (R15): what each class of data may be kept for, enforced by one job.

Run by ``teamlens retention run`` (and ``teamlens scheduler tick``), meant for a daily timer.
Each run, with ``today``:

* **per-person facts** go once every catalogue window covering their week is released (the
  week's clipping block is then measured and its noisy values kept, so the facts have done their
  work), and at the latest when their day is more than ``retention_days`` before today; HR
  directory rows go once their validity ended before that cut-off. The retention is the active
  policy's; when processing has stopped (suspended, lapsed, retired), the last policy that ran
  sets it, since the data it let in still has to go.
* **kept noisy measurements** of a block stay when the block's facts go: they are differentially
  private outputs, and later reports of the period are derived from them at no cost (the facts
  could not be measured again anyway). They go with the period's released aggregates.
* **released aggregates and the ledger** of a policy period (releases, charges, published cells,
  measurements) are kept while the period runs and ``released_retention_days`` after it ends
  (never less than ``retention_days``, so no new policy can measure those weeks again while the
  facts could still exist), then archived (a JSON file in the archive folder, then deleted) or
  deleted, as the policy says.
* **backups** follow the same clock with a lag: a backup of the data folder is kept at most
  ``backup_expiry_days`` (setting), so what a run deletes is gone from every backup by
  ``backups_clear_by``; the run says so and logs it.

The audit entries hold counts per class, dates and policy ids — never whose data, never a value.
Each deletion is atomic (the store's transaction; one database transaction per period), so a
crash leaves each class as before or as after, and the next run finishes the job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from teamlens.domain import Policy
from teamlens.governance import PolicyState, PolicyVersionInfo
from teamlens.services.workspace import Workspace, private_folder
from teamlens.store import DayRange

#: States of versions that once ran, so their retention still binds the data they let in.
_RAN = (PolicyState.SUSPENDED, PolicyState.LAPSED, PolicyState.SUPERSEDED, PolicyState.RETIRED)


@dataclass(frozen=True)
class PeriodDisposal:
    """A finished policy period whose released aggregates and ledger one run archived or deleted."""

    policy_id: str
    period_start: dt.date
    disposal: str  # "archive" or "delete"
    archive: Path | None
    counts: dict[str, int]


@dataclass(frozen=True)
class RetentionResult:
    """What one retention run did, class by class; ``deleted`` is every fact it deleted."""

    policy_id: str | None
    version: int | None
    retention_days: int | None
    cutoff: dt.date | None
    deleted: int
    facts_past_retention: int = 0
    facts_released: int = 0
    directory_rows: int = 0
    periods: tuple[PeriodDisposal, ...] = ()
    backups_clear_by: dt.date | None = None


def run_retention(ws: Workspace, *, actor: str, today: dt.date | None = None) -> RetentionResult:
    """Delete what the policies no longer allow to be kept (module docstring); audited with counts only."""
    day = today or dt.datetime.now(dt.UTC).date()
    governing = _governing_policy(ws)
    if governing is None:
        # Nothing can have been ingested without a policy, so there is nothing to delete.
        return RetentionResult(None, None, None, None, 0)
    policy = ws.governance.stored_policy(*governing).policy
    cutoff = day - dt.timedelta(days=policy.retention_days)
    periods = _periods(ws)
    released = [week for ran in periods for week in released_weeks(ws, ran)]
    expired = ws.store.expire(cutoff, released)
    due = [ran for ran in periods if _aggregates_due(ran) <= day and _holds_releases(ws, ran)]
    disposed = tuple(_dispose(ws, ran, actor) for ran in due)
    clear_by = day + dt.timedelta(days=ws.settings.backup_expiry_days)
    ws.governance.append_audit(
        actor,
        "retention.run",
        {
            "policy_id": policy.policy_id,
            "version": policy.version,
            "retention_days": policy.retention_days,
            "cutoff": cutoff.isoformat(),
            "facts_deleted": expired.facts,
            "facts_past_retention": expired.facts_past_retention,
            "facts_of_released_windows": expired.facts_released,
            "directory_rows_deleted": expired.directory_rows,
            "periods_disposed": len(disposed),
            "backups_clear_by": clear_by.isoformat(),
        },
    )
    return RetentionResult(
        policy.policy_id,
        policy.version,
        policy.retention_days,
        cutoff,
        expired.facts,
        expired.facts_past_retention,
        expired.facts_released,
        expired.directory_rows,
        disposed,
        clear_by,
    )


def released_weeks(ws: Workspace, policy: Policy) -> list[DayRange]:
    """The weeks of ``policy``'s period whose every covering catalogue window is released, as day ranges.

    A week no catalogue window covers is not among them: its facts wait for the age cut-off.
    """
    done: dict[dt.date, bool] = {}
    for report in policy.reports:
        published = ws.governance.published_keys(policy.policy_id, policy.period_start, report.report_id)
        for window in policy.windows(report.cadence):
            whole = all((window.key, name) in published for name in report.metrics)
            for week in window.weeks:
                done[week] = done.get(week, True) and whole
    return [(week, week + dt.timedelta(days=7)) for week, whole in sorted(done.items()) if whole]


def _aggregates_due(policy: Policy) -> dt.date:
    """The day a period's released aggregates and ledger are due to go."""
    return policy.period_end + dt.timedelta(days=max(policy.released_retention_days, policy.retention_days))


def _holds_releases(ws: Workspace, policy: Policy) -> bool:
    return any(info.period_start == policy.period_start for info in ws.governance.releases(policy.policy_id))


def _dispose(ws: Workspace, policy: Policy, actor: str) -> PeriodDisposal:
    archive = None
    details: dict[str, object] = {"disposal": policy.released_disposal}
    if policy.released_disposal == "archive":
        archive, digest = _write_archive(ws, policy)
        details.update(archive=archive.name, archive_sha256=digest)
    counts = ws.governance.dispose_period(policy.policy_id, policy.period_start, actor, details)
    return PeriodDisposal(policy.policy_id, policy.period_start, policy.released_disposal, archive, counts)


def _write_archive(ws: Workspace, policy: Policy) -> tuple[Path, str]:
    """Write the period's releases, charges and published cells to the archive folder (atomically)."""
    folder = ws.settings.archive_dir or ws.settings.data_dir / "archive"
    private_folder(folder)
    content = ws.governance.period_archive(policy.policy_id, policy.period_start)
    data = json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    path = folder / f"{policy.policy_id}--{policy.period_start.isoformat()}.json"
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path, hashlib.sha256(data).hexdigest()


def _periods(ws: Workspace) -> list[Policy]:
    """Each policy period that ran (or runs), as its newest version that ran says."""
    newest: dict[tuple[str, str], Policy] = {}
    for info in ws.governance.policy_versions():
        if info.state is not PolicyState.ACTIVE and not _ran(info):
            continue
        policy = ws.governance.stored_policy(info.policy_id, info.version).policy
        key = (policy.policy_id, policy.period_start.isoformat())
        if key not in newest or newest[key].version < policy.version:
            newest[key] = policy
    return [newest[key] for key in sorted(newest)]


def _ran(info: PolicyVersionInfo) -> bool:
    """Whether a version that is no longer active once ran (was approved), so its retention binds."""
    return info.state in _RAN and (not info.missing_parties or info.tightens_version is not None)


def _governing_policy(ws: Workspace) -> tuple[str, int] | None:
    active = ws.governance.active_policy()
    if active is not None:
        return active.policy_id, active.version
    # A retired version counts only if it had been approved (it may have run); a withdrawn draft never did.
    ran = [info for info in ws.governance.policy_versions() if _ran(info)]
    if not ran:
        return None
    last = max(ran, key=lambda info: info.state_changed_at)
    return last.policy_id, last.version

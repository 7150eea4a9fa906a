"""One worker's access export (R20), built in memory from what is held under their pseudonym.

:func:`gather` reads everything held about one pseudonym — their weekly counts still within
retention, their HR directory rows (as the store keeps them: week-start dates and groups), their
objection, every release their data entered (each week of a published window, the group the
directory placed them in that Monday, as the release engine does), and the policy
and notice versions that applied — into one :class:`HeldData`. The worker's own page renders it;
:func:`export_files` turns it into the export's four files (JSON, two CSVs, a readable summary)
as bytes, which :func:`write_files` writes to a folder (the DPO's CLI) and :func:`zip_files`
zips in memory (the worker's web download: no file holding personal data is left on the server).
Who may ask for what is decided in ``rights.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from teamlens.domain import GroupLevel, Window
from teamlens.domain.spreadsheet import spreadsheet_safe
from teamlens.governance import PolicyState
from teamlens.privacy import Strategy, rho_to_epsilon
from teamlens.services.exclusions import Exclusion, own_exclusion
from teamlens.services.workspace import Workspace
from teamlens.store import ORGANISATION_GROUP

#: The export's files, in the order a reader should open them.
FILE_NAMES = ("summary.txt", "my-data.json", "my-facts.csv", "my-releases.csv")
_FACT_COLUMNS = ["day", "days", "metric", "value", "source"]
#: Policy versions a worker's data may have been processed under (drafts and proposals never were).
_NEVER_APPLIED = (PolicyState.DRAFT, PolicyState.CONSULTATION, PolicyState.PROPOSED)


@dataclass(frozen=True)
class ReleaseEntered:
    """One release cell set a worker's data entered: which report, window and group."""

    release_id: str
    policy_id: str
    policy_version: int
    report_id: str
    level: str
    group: str
    window: str
    metrics: tuple[str, ...]
    mechanism: str
    rho: float
    epsilon: float
    released_at: str


@dataclass(frozen=True)
class HeldData:
    """Everything teamlens holds about one worker, and what it did with it.

    ``facts`` are rows with ``day``, ``days``, ``metric``, ``value`` and ``source``, oldest first;
    ``directory`` rows have ``valid_from``, ``valid_to`` and the group columns; ``policies`` rows have
    ``policy_id``, ``version``, ``state`` and ``sha256``; ``notices`` rows have ``policy_id``,
    ``version``, ``notice_sha256`` and ``generated_at`` (the worker notice that applied from that
    version's activation on). ``objection`` is None unless the worker objected.
    """

    pseudonym: str
    generated_at: str
    facts: tuple[dict[str, Any], ...]
    directory: tuple[dict[str, Any], ...]
    releases: tuple[ReleaseEntered, ...]
    objection: Exclusion | None
    policies: tuple[dict[str, Any], ...]
    notices: tuple[dict[str, Any], ...]
    #: Per day and kind, what they sent (or meeting time spent) to how many colleagues: never whom.
    collaboration: tuple[dict[str, Any], ...] = ()


def gather(ws: Workspace, person: str) -> HeldData:
    """Read everything held under the pseudonym ``person``; decide who may ask before calling this."""
    facts = sorted(
        (
            {k: v for k, v in row.items() if k != "person"}
            for row in ws.store.person_facts(person).to_pylist()
        ),
        key=lambda row: (row["day"], row["metric"], row["source"]),
    )
    directory = ws.store.person_directory(person).to_pylist()
    own = own_exclusion(ws, person)
    entered = _releases_entered(ws, directory, {row["day"] for row in facts}, own)
    return HeldData(
        pseudonym=person,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        facts=tuple(facts),
        directory=tuple({key: value for key, value in row.items() if key != "person"} for row in directory),
        releases=entered,
        objection=own,
        policies=tuple(
            {"policy_id": v.policy_id, "version": v.version, "state": v.state.value, "sha256": v.sha256}
            for v in ws.governance.policy_versions()
            if v.state not in _NEVER_APPLIED
        ),
        notices=tuple(
            {
                "policy_id": n.policy_id,
                "version": n.version,
                "notice_sha256": n.notice_sha256,
                "generated_at": n.notice_generated_at,
            }
            for n in ws.governance.notifications("workers")
            if n.notice_sha256
        ),
        collaboration=tuple(ws.store.person_edges(person)),
    )


def export_files(held: HeldData) -> dict[str, bytes]:
    """The export's files by name (see ``FILE_NAMES``), as UTF-8 bytes."""
    release_rows = [asdict(entry) for entry in held.releases]
    objection = held.objection
    document: dict[str, Any] = {
        "about": {"pseudonym": held.pseudonym},
        "generated_at": held.generated_at,
        "facts": list(held.facts),
        "directory": list(held.directory),
        "objection": None
        if objection is None
        else {"recorded_at": objection.recorded_at, "effective_from": objection.effective_from},
        "releases_entered": release_rows,
        "policies": list(held.policies),
        "notices": list(held.notices),
        "collaboration": list(held.collaboration),
    }
    return {
        "summary.txt": _summary(held).encode("utf-8"),
        "my-data.json": json.dumps(document, indent=2, default=str).encode("utf-8"),
        "my-facts.csv": _csv(_FACT_COLUMNS, list(held.facts)),
        "my-releases.csv": _csv(list(ReleaseEntered.__dataclass_fields__), release_rows),
    }


def write_files(files: Mapping[str, bytes], out: Path) -> None:
    """Write the export's files into the folder ``out`` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_bytes(content)


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """The export's files as one zip archive, built in memory (nothing is written to disk)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            entry = zipfile.ZipInfo(f"teamlens-my-data/{name}", (1980, 1, 1, 0, 0, 0))
            archive.writestr(entry, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _releases_entered(
    ws: Workspace, directory: list[dict[str, Any]], fact_days: set[dt.date], own: Exclusion | None
) -> tuple[ReleaseEntered, ...]:
    """Every (release, window, group) the worker counted in, the way the release engine places people.

    Each week of a published window a person counts in their group that Monday (at organisation
    level also when only their facts place them there), unless they had objected before the start
    of that week's clipping block. A mover appears once per group they were in.
    """
    published = ws.governance.released_windows()
    strategies: dict[tuple[str, int], Strategy] = {}
    entered: list[ReleaseEntered] = []
    for release in ws.governance.releases():
        windows = published.get(release.release_id)
        if not windows:
            continue
        policy = ws.governance.stored_policy(release.policy_id, release.policy_version).policy
        strategy = strategies.setdefault((policy.policy_id, policy.version), Strategy.for_policy(policy))
        report = policy.report(release.report_id)
        for key in sorted(windows):
            window = Window.parse(key)
            groups: dict[str, None] = {}
            for week in window.weeks:
                if own is not None and own.recorded_at.date() < strategy.block_of(week).start:
                    continue  # left out of blocks that started after the objection
                group = _group_at(directory, report.level, week)
                active = any(week <= day < week + dt.timedelta(days=7) for day in fact_days)
                if group is None and report.level is GroupLevel.ORGANISATION and active:
                    group = ORGANISATION_GROUP
                if group is not None:
                    groups[group] = None
            entered.extend(
                ReleaseEntered(
                    release_id=release.release_id,
                    policy_id=release.policy_id,
                    policy_version=release.policy_version,
                    report_id=release.report_id,
                    level=report.level.value,
                    group=group,
                    window=key,
                    metrics=release.metrics,
                    mechanism="discrete Gaussian (zCDP, OpenDP) on weekly totals, made consistent",
                    rho=float(release.rho.value),
                    epsilon=rho_to_epsilon(release.rho, policy.delta),
                    released_at=release.released_at.isoformat(timespec="seconds"),
                )
                for group in groups
            )
    return tuple(entered)


def _group_at(directory: list[dict[str, Any]], level: GroupLevel, day: dt.date) -> str | None:
    """The worker's group at ``day`` as the store places them: their latest row valid then."""
    valid = [
        row
        for row in directory
        if row["valid_from"] <= day and (row["valid_to"] is None or day < row["valid_to"])
    ]
    if not valid:
        return None
    latest = max(valid, key=lambda row: row["valid_from"])
    if level is GroupLevel.ORGANISATION:
        return "Organisation"
    value = latest.get(level.value)
    return None if value is None else str(value)


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    # A group's name comes from the HR export: "=HYPERLINK(…)" must open as text, not run.
    writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
    return text.getvalue().encode("utf-8")


def _summary(held: HeldData) -> str:
    lines = [
        "Everything teamlens holds about you",
        "",
        "teamlens does not store your e-mail address: it knows you only by a pseudonym,",
        f"{held.pseudonym}, computed from your address with a secret key.",
        "",
        f"Weekly counts held: {len(held.facts)} (my-facts.csv). They are deleted automatically after the",
        "policy's retention period.",
        f"HR directory entries: {len(held.directory)} (my-data.json, 'directory').",
    ]
    for row in held.directory:
        lines.append(
            f"  from {row['valid_from']} to {row['valid_to'] or 'now'}: team {row.get('team')}, "
            f"department {row.get('department')}, division {row.get('division')}"
        )
    lines += ["", f"Releases your data entered: {len(held.releases)} (my-releases.csv)."]
    for entry in held.releases:
        lines.append(
            f"  {entry.released_at} {entry.report_id} {entry.window}: {entry.level} '{entry.group}' "
            f"(rho {entry.rho:.4g})"
        )
    lines += ["", "Policy versions that applied (my-data.json, 'policies'):"]
    lines += [f"  {p['policy_id']} version {p['version']} ({p['state']})" for p in held.policies] or [
        "  none"
    ]
    lines += ["Worker notices (my-data.json, 'notices'):"]
    lines += [
        f"  {n['policy_id']} version {n['version']}: notice sha256 {n['notice_sha256']}" for n in held.notices
    ] or ["  none"]
    lines.append("")
    own = held.objection
    if own is None:
        lines.append(
            "You have not objected. To object, sign in to the teamlens web app and open /me, or ask the"
        )
        lines.append("DPO or your representative to record it for you.")
    else:
        lines.append(
            f"You objected on {own.recorded_at:%Y-%m-%d}; you are left out of every window from "
            f"{own.effective_from} on."
        )
    lines += ["", "Published figures are group averages with noise; none of them is about you alone."]
    return "\n".join(lines) + "\n"

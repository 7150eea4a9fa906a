"""Workers' rights (R20–R22): the access export lists exactly the releases a worker's data entered,
nothing about anyone else; objections apply from the next window on; the exclusion list is guarded.

The DPO acts on one worker's data only on a request: here off-line ones, opened with the DPO's key
and countersigned with the representative's (``dpo_acts``); no role given as text grants anything.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from freezegun import freeze_time

from teamlens import services
from teamlens.domain import HEADCOUNT, Cadence, Window
from teamlens.errors import AccessDenied

from ..integration.flow_support import dpo_fulfils
from ..support.orgs import org_fixture
from .flow_support import Org, build_org, signer


def dpo_acts(org: Org, email: str, kind: str, out: Path | None = None) -> services.Fulfilled:
    """An off-line request: the DPO opens it, the representative countersigns, the DPO fulfils."""
    return dpo_fulfils(org.ws, email, kind, out)


OBJECTED_ON = "2026-01-20 10:00"  # after 2026-01 and 2026-Q1 started, before 2026-02 starts
LEVEL_COLUMN = {"department": "Department", "team": "Team"}


def directory_rows(org: Org) -> dict[str, list[dict[str, str]]]:
    """The HR directory's rows by address."""
    rows: dict[str, list[dict[str, str]]] = {}
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row["Email"], []).append(row)
    return rows


def pick(people: dict[str, list[dict[str, str]]], test: object) -> str:
    return next(email for email, rows in sorted(people.items()) if test(rows))  # type: ignore[operator]


def choose_cast(people: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    """A stayer, a leaver, a joiner and an objector, chosen from the HR directory."""
    jan, feb = dt.date(2025, 12, 29).isoformat(), dt.date(2026, 2, 2).isoformat()
    stayers = [
        e
        for e, rows in sorted(people.items())
        if len(rows) == 1 and rows[0]["Valid From"] <= jan and not rows[0]["Valid To"]
    ]
    return {
        "stayer": stayers[0],
        "objector": stayers[1],
        "leaver": pick(people, lambda rows: len(rows) == 1 and jan < rows[0]["Valid To"] <= feb),
        "joiner": pick(people, lambda rows: len(rows) == 1 and jan < rows[0]["Valid From"] <= feb),
    }


def with_objection(root: Path) -> Org:
    """300 workers ingested; the objector objects, then three releases are made after the objection."""
    built = build_org(root, people=300, weeks=6)
    services.ingest(built.ws, [built.exports], actor="admin")
    objector = choose_cast(directory_rows(built))["objector"]
    with freeze_time(OBJECTED_ON):
        dpo_acts(built, objector, "object")
    for report, window in (
        ("department-monthly", "2026-01"),
        ("department-monthly", "2026-02"),
        ("team-quarterly", "2026-Q1"),
    ):
        services.release(built.ws, report, [window], actor="analyst")
    return built


org = org_fixture(with_objection)


@pytest.fixture
def people(org: Org) -> dict[str, list[dict[str, str]]]:
    return directory_rows(org)


@pytest.fixture
def cast(people: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    return choose_cast(people)


def expected_entries(
    org: Org, rows: list[dict[str, str]], objected: dt.date | None
) -> set[tuple[str, str, str]]:
    """(release id, window, group) worked out from the raw HR CSV, independently of teamlens.

    Each week of a published window the worker counts in their group that Monday; an objection
    leaves them out of every month (the clipping block) that starts after it was recorded.
    """
    found = set()
    published = org.ws.governance.released_windows()
    for release in org.ws.governance.releases():
        level = (
            org.ws.governance.stored_policy(release.policy_id, release.policy_version)
            .policy.report(release.report_id)
            .level.value
        )
        for key in published.get(release.release_id, ()):
            for monday in Window.parse(key).weeks:
                month = Window.containing(monday, Cadence.MONTH)
                if objected is not None and objected < month.start:
                    continue
                day = monday.isoformat()
                valid = [
                    r for r in rows if r["Valid From"] <= day and (not r["Valid To"] or day < r["Valid To"])
                ]
                if valid:
                    group = max(valid, key=lambda r: r["Valid From"])[LEVEL_COLUMN[level]]
                    if group:
                        found.add((release.release_id, key, group))
    return found


@pytest.mark.parametrize("who", ["stayer", "leaver", "joiner", "objector"])
def test_the_access_export_lists_exactly_the_releases_their_data_entered(
    org: Org, people: dict[str, list[dict[str, str]]], cast: dict[str, str], tmp_path: Path, who: str
) -> None:
    email = cast[who]
    export = dpo_acts(org, email, "access", tmp_path / who)
    got = {(entry.release_id, entry.window, entry.group) for entry in export.releases}
    objected = dt.date(2026, 1, 20) if who == "objector" else None
    assert got == expected_entries(org, people[email], objected)
    windows = {entry.window for entry in export.releases}
    # A joiner counts from their first Monday: in January too when they started by its last one.
    joined_in_january = people[email][0]["Valid From"] <= "2026-01-26"
    assert {"stayer": {"2026-01", "2026-02", "2026-Q1"}, "leaver": {"2026-01", "2026-Q1"},
            "joiner": {"2026-01", "2026-02", "2026-Q1"} if joined_in_january else {"2026-02", "2026-Q1"},
            "objector": {"2026-01", "2026-Q1"}}[who] == windows  # fmt: skip
    if who != "joiner":
        assert export.facts > 0
    data = json.loads((tmp_path / who / "my-data.json").read_text(encoding="utf-8"))
    assert len(data["facts"]) == export.facts
    assert data["about"] == {"pseudonym": org.ws.pseudonymiser()(email)}  # the address is not stored
    assert (data["objection"] is not None) == (who == "objector")
    for name in ("my-facts.csv", "my-releases.csv", "summary.txt"):
        assert (tmp_path / who / name).stat().st_size > 0


def test_the_access_export_says_nothing_about_anyone_else(
    org: Org, people: dict[str, list[dict[str, str]]], cast: dict[str, str], tmp_path: Path
) -> None:
    dpo_acts(org, cast["stayer"], "access", tmp_path)
    written = "".join(path.read_text(encoding="utf-8") for path in tmp_path.iterdir())
    pseudonymise = org.ws.pseudonymiser()
    for email, rows in people.items():
        if email == cast["stayer"]:
            continue
        assert email not in written
        assert rows[0]["Display Name"] not in written
        assert pseudonymise(email) not in written
    entries = org.ws.governance.audit_entries(limit=3)
    assert [e.action for e in entries] == ["rights.fulfil", "rights.request", "rights.request"]
    assert [e.details["party"] for e in entries] == ["dpo", "representative", "dpo"]
    for entry in entries:
        assert cast["stayer"] not in json.dumps(entry.details)
        assert pseudonymise(cast["stayer"]) not in json.dumps(entry.details)


def test_an_objection_applies_from_the_next_block_not_retroactively(org: Org, cast: dict[str, str]) -> None:
    person = org.ws.pseudonymiser()(cast["objector"])
    department = org.ws.store.person_directory(person).column("department")[0].as_py()
    january, february = (Window.parse(key).weeks for key in ("2026-01", "2026-02"))

    def person_weeks(weeks: tuple[dt.date, ...], exclude: frozenset[str]) -> int:
        table = org.ws.store.aggregate_block(
            levels=["department"], weeks=weeks, clips={}, headcount=True, exclude=exclude
        )
        return next(
            r["total"] for r in table.to_pylist() if (r["group"], r["metric"]) == (department, HEADCOUNT)
        )

    # The service measures each block without the objections recorded before the block began.
    for weeks, change in ((january, 0), (february, len(february))):
        excluded = org.ws.governance.excluded_persons(weeks[0])
        assert (person in excluded) == (change > 0)
        assert person_weeks(weeks, excluded) == person_weeks(weeks, frozenset()) - change
    objection = services.exclusion_list(org.ws, by=signer(org.ws, "dpo"))[0]
    assert objection.effective_from == dt.date(2026, 2, 2)  # the first month to start after 20 January


@pytest.mark.parametrize("party", ["employer", "representative"])
def test_no_key_but_the_dpos_opens_or_fulfils_a_request(org: Org, cast: dict[str, str], party: str) -> None:
    """Whoever holds another party's key cannot act on a worker's data, whatever they call themselves."""
    other = signer(org.ws, party)
    with pytest.raises(AccessDenied):
        services.offline_request(org.ws, cast["stayer"], "access", reference="SAR-9", by=other, actor="x")
    made = services.offline_request(
        org.ws, cast["stayer"], "erase", reference="SAR-9", by=signer(org.ws, "dpo"), actor="dpo"
    )
    services.countersign_request(org.ws, made.request_id, by=signer(org.ws, "representative"), actor="rep")
    with pytest.raises(AccessDenied):
        services.fulfil_request(org.ws, made.request_id, by=other, actor="x")
    assert services.exclusion_list(org.ws, by=signer(org.ws, "representative"))
    if party == "employer":
        with pytest.raises(AccessDenied):
            services.exclusion_list(org.ws, by=other)


@pytest.mark.parametrize("reference", ["", "   ", "stayer@example.org", "x" * 121])
def test_acting_for_a_worker_needs_a_request_reference_that_is_not_an_address(
    org: Org, cast: dict[str, str], reference: str
) -> None:
    with pytest.raises(AccessDenied, match="reference of the worker's verified request"):
        services.offline_request(
            org.ws, cast["stayer"], "access", reference=reference, by=signer(org.ws, "dpo"), actor="dpo"
        )


def test_the_dpo_the_representative_and_the_worker_see_what_they_may(org: Org, cast: dict[str, str]) -> None:
    person = org.ws.pseudonymiser()(cast["objector"])
    for party in ("dpo", "representative"):
        [entry] = services.exclusion_list(org.ws, by=signer(org.ws, party))
        assert (entry.pseudonym, entry.effective_from) == (person, dt.date(2026, 2, 2))
    objector = services.own_data(org.ws, services.SignedInWorker(person)).objection
    assert objector is not None and objector.effective_from == dt.date(2026, 2, 2)
    stayer = services.SignedInWorker(org.ws.pseudonymiser()(cast["stayer"]))
    assert services.own_data(org.ws, stayer).objection is None


def test_erasure_removes_the_worker_and_is_logged_with_counts_only(
    org: Org, cast: dict[str, str], tmp_path: Path
) -> None:
    erasure = dpo_acts(org, cast["leaver"], "erase")
    assert erasure.removed > 0
    export = dpo_acts(org, cast["leaver"], "access", tmp_path)
    assert (export.facts, export.releases) == (0, ())
    erased = [e for e in org.ws.governance.audit_entries(limit=10) if e.action == "rights.erase"]
    assert erased[0].details == {"rows_removed": erasure.removed, "request_id": erasure.request.request_id}

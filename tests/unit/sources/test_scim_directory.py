"""SCIM 2.0 /Users as the directory: identities, aliases, groups and validity from the records."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import DIRECTORY_READ_SCHEMA
from teamlens.errors import InputFormatError
from teamlens.sources.scim_directory import ENTERPRISE, SCIM_DIRECTORY, USER_SCHEMA, ScimDirectoryReader

from ...support.fuzzing import examples
from .sources_testkit import context, pseudonymiser, read_all

pseud = pseudonymiser()


def user(i: int, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "id": f"scim-id-{i}",
        "userName": f"login{i}@contoso.com",
        "name": {"givenName": f"Given{i}", "familyName": "Family"},
        "emails": [
            {"value": f"other{i}@home.example", "type": "home"},
            {"value": f"worker{i}@contoso.com", "type": "work", "primary": True},
        ],
        "active": True,
        "addresses": [{"type": "work", "locality": "Leeds", "streetAddress": "1 Secret Road"}],
        "meta": {
            "resourceType": "User",
            "created": "2023-02-03T09:00:00Z",
            "lastModified": "2024-05-06T10:00:00Z",
        },
        ENTERPRISE: {
            "department": f"Dept {i % 3}",
            "division": "Ops",
            "costCenter": f"CC{i % 5}",
            "employeeNumber": f"E{i}",
            "manager": {"value": "scim-id-0", "displayName": "Boss"},
        },
    }
    if i == 0:
        del record[ENTERPRISE]["manager"]
    record.update(changes)
    return record


def users(n: int = 12) -> list[dict[str, Any]]:
    # The manager (user 0) comes last, so references must be resolved after the whole file.
    return [user(i) for i in range(1, n)] + [user(0)]


def write(path: Path, shape: str, records: list[dict[str, Any]]) -> Path:
    if shape == "list":
        text = json.dumps(
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": len(records),
                "Resources": records,
            },
            indent=2,
        )
    elif shape == "array":
        text = json.dumps(records)
    else:
        half = len(records) // 2
        page = json.dumps({"Resources": records[half:]})
        text = "\n".join([*(json.dumps(r) for r in records[:half]), "", page]) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def rows(table: object) -> dict[str, dict[str, Any]]:
    return {r["person"]: r for r in table.to_pylist()}  # type: ignore[attr-defined]


@pytest.mark.parametrize("shape", ["list", "array", "lines"])
def test_users_become_directory_rows_in_every_shape(tmp_path: Path, shape: str) -> None:
    records = users()
    table, report, _ = read_all(
        SCIM_DIRECTORY, write(tmp_path / "u.json", shape, records), context(batch_rows=5)
    )
    assert table.schema == DIRECTORY_READ_SCHEMA
    got = rows(table)
    assert set(got) == {pseud(f"worker{i}@contoso.com") for i in range(12)}
    for i in range(12):
        row = got[pseud(f"worker{i}@contoso.com")]
        assert row["team"] == f"CC{i % 5}"
        assert row["department"] == f"Dept {i % 3}"
        assert (row["division"], row["location"]) == ("Ops", "Leeds")
        assert row["manager"] is None  # SCIM names the manager by id: not read (HR CSV only)
        assert row["aliases"] == sorted([pseud(f"other{i}@home.example"), pseud(f"login{i}@contoso.com")])
        assert (row["valid_from"], row["valid_to"]) == (dt.date(2023, 2, 3), None)
    flat = str(table.to_pylist()) + str(report)
    for secret in ("worker", "login", "Given", "Secret", "scim-id", "E1", "Boss", "home.example"):
        assert secret not in flat
    assert (report.rows_read, report.rows_kept, report.people_seen) == (12, 12, 12)
    assert report.notes == []


def test_identity_falls_back_to_work_email_then_first_then_username(tmp_path: Path) -> None:
    records = [
        user(
            1,
            emails=[
                {"value": "home1@x.example", "type": "home"},
                {"value": "work1@x.example", "type": "work"},
            ],
        ),
        user(2, emails=[{"value": "only2@x.example"}]),
        user(3, emails=[]),
    ]
    table, _, _ = read_all(SCIM_DIRECTORY, write(tmp_path / "u.json", "array", records))
    expected = {pseud("work1@x.example"), pseud("only2@x.example"), pseud("login3@contoso.com")}
    assert set(rows(table)) == expected


def test_validity_of_leavers_and_users_without_dates(tmp_path: Path) -> None:
    records = [
        user(1, active=False),
        user(2, active="False", meta={"created": "2023-01-01T00:00:00+02:00"}),
        user(3, meta={}),
        user(
            4, active=False, meta={"created": "2024-05-06T08:00:00Z", "lastModified": "2024-05-06T09:00:00Z"}
        ),
    ]
    table, report, _ = read_all(SCIM_DIRECTORY, write(tmp_path / "u.json", "list", records))
    got = rows(table)
    assert (got[pseud("worker1@contoso.com")]["valid_to"]) == dt.date(2024, 5, 6)
    undated = got[pseud("worker3@contoso.com")]
    assert (undated["valid_from"], undated["valid_to"]) == (dt.date(1970, 1, 1), None)
    assert pseud("worker2@contoso.com") not in got
    assert pseud("worker4@contoso.com") not in got
    assert any("2 inactive users without meta.lastModified" in note for note in report.notes)


def test_team_comes_from_the_configured_attributes(tmp_path: Path) -> None:
    records = [user(1), user(2)]
    del records[1][ENTERPRISE]["costCenter"]
    path = write(tmp_path / "u.json", "array", records)
    default, _, _ = read_all(SCIM_DIRECTORY, path)
    assert rows(default)[pseud("worker2@contoso.com")]["team"] == "Dept 2"
    by_division, _, _ = read_all(ScimDirectoryReader(team_from=("division",)), path)
    assert set(by_division.column("team").to_pylist()) == {"Ops"}


def test_a_user_name_that_is_no_address_and_the_primary_twice_are_no_aliases(tmp_path: Path) -> None:
    records = [
        user(1, userName="login1"),
        user(2, emails=[{"value": "worker2@contoso.com", "primary": True}]),
    ]
    records[1]["userName"] = "WORKER2@contoso.com"
    table, _, _ = read_all(SCIM_DIRECTORY, write(tmp_path / "u.json", "array", records))
    got = rows(table)
    assert got[pseud("worker1@contoso.com")]["aliases"] == [pseud("other1@home.example")]
    assert got[pseud("worker2@contoso.com")]["aliases"] is None


def test_groups_are_skipped_and_objectors_dropped(tmp_path: Path) -> None:
    group = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "displayName": "Union",
        "members": [{"value": "scim-id-1"}],
    }
    records = [*users(6), group]
    path = write(tmp_path / "u.json", "list", records)
    table, report, _ = read_all(SCIM_DIRECTORY, path, context(excluded=["worker3@contoso.com"]))
    assert pseud("worker3@contoso.com") not in rows(table)
    assert table.num_rows == 5
    assert any("skipped 1 resource" in note for note in report.notes)
    assert "Union" not in str(report)


@pytest.mark.parametrize(
    ("text", "line", "field", "needle"),
    [
        ('{"Resources": [\n{"userName": "a@x.org"},\n{"userName": }]}', 3, None, "not valid JSON"),
        ('{"userName": "a@x.org"}\n{"userName": "b@x.org"\n', 2, None, "not valid JSON"),
        (
            '[{"userName": "a@x.org"}, {"emails": [{"type": "work"}]}]',
            None,
            "userName",
            "user 2 of the array",
        ),
        ('[{"userName": "a@x.org", "active": "yes"}]', None, "active", "not true or false"),
        (
            '{"Resources": [{"userName": "a@x.org", "meta": {"created": "last tuesday"}}]}',
            1,
            "meta.created",
            "Resources[0]",
        ),
        ('{"userName": "a@x.org", "emails": "a@x.org"}', 1, "emails", "not a list"),
        ('{"Resources": {"userName": "a@x.org"}}', 1, "Resources", "not a list"),
        ('[{"userName": "a@x.org"}, {"userName": "A@x.org "}]', None, "emails", "user 2 of the array"),
        ("[1]", None, None, "not a JSON object"),
    ],
)
def test_bad_records_name_their_position_and_field(
    tmp_path: Path, text: str, line: int | None, field: str | None, needle: str
) -> None:
    path = tmp_path / "u.json"
    path.write_text(text)
    with pytest.raises(InputFormatError) as caught:
        read_all(SCIM_DIRECTORY, path)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert needle in str(caught.value)
    assert "x.org" not in str(caught.value)


def test_sniff_recognises_scim_and_nothing_else(tmp_path: Path) -> None:
    assert SCIM_DIRECTORY.sniff(write(tmp_path / "u.json", "list", users(3)))
    other = tmp_path / "o.json"
    other.write_text('{"kind": "admin#reports#activities", "items": []}')
    assert not SCIM_DIRECTORY.sniff(other)
    csv = tmp_path / "hr.csv"
    csv.write_text("Email,Team,Valid From\nuserName,x,2024-01-01\n")
    assert not SCIM_DIRECTORY.sniff(csv)
    assert not SCIM_DIRECTORY.sniff(tmp_path / "missing.json")


def test_canary_never_leaves_the_reader(tmp_path: Path) -> None:
    canary = "zq-5ca7f00d@canary.example"
    records = [user(1, emails=[{"value": canary, "primary": True}], userName="zq-5ca7f00d-login")]
    table, report, _ = read_all(SCIM_DIRECTORY, write(tmp_path / "u.json", "array", records))
    assert "5ca7f00d" not in str(table.to_pylist()) + str(report)
    records.append(user(2, userName="zq-5ca7f00d-login", emails=[], active="maybe"))
    with pytest.raises(InputFormatError) as caught:
        read_all(SCIM_DIRECTORY, write(tmp_path / "u.json", "array", records))
    assert "5ca7f00d" not in str(caught.value)


SEED = json.dumps({"Resources": [user(1), user(0)]})
SPICE = st.sampled_from(['"', ",", "{", "}", "[", "]", "\n", "null", "1", "true", "\\"])
counter = itertools.count()


def survives(folder: Path, data: bytes) -> None:
    path = folder / f"f{next(counter)}.json"
    path.write_bytes(data)
    assert isinstance(SCIM_DIRECTORY.sniff(path), bool)
    message = ""
    try:
        read_all(SCIM_DIRECTORY, path)
    except InputFormatError as error:
        message = str(error)
    assert "worker" not in message


def test_the_fuzz_seed_reads_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(SEED)
    assert read_all(SCIM_DIRECTORY, path)[0].num_rows == 2


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_input_format_errors(tmp_path: Path, data: bytes) -> None:
    survives(tmp_path, data)


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 4), SPICE), max_size=5))
def test_garbled_exports_raise_only_input_format_errors(
    tmp_path: Path, edits: list[tuple[int, int, str]]
) -> None:
    text = SEED
    for at, removed, inserted in edits:
        at %= len(text) + 1
        text = text[:at] + inserted + text[at + removed :]
    survives(tmp_path, text.encode())

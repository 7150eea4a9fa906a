from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from teamlens.domain import Cadence, GroupLevel, Policy, Window
from teamlens.errors import ReleaseError
from teamlens.privacy import ReleaseSpec

from .support import build_policy


def test_a_valid_request_builds_a_canonical_spec(policy: Policy) -> None:
    spec = ReleaseSpec.build(
        policy,
        "department_monthly",
        ["2026-03", "2026-01"],
        ["emails_sent", "meeting_minutes", "emails_sent"],
    )
    assert spec.report_id == "department_monthly"
    assert spec.level is GroupLevel.DEPARTMENT
    assert spec.windows == (Window(Cadence.MONTH, "2026-01"), Window(Cadence.MONTH, "2026-03"))
    assert spec.metrics == ("emails_sent", "meeting_minutes")


def test_no_metrics_means_every_metric_of_the_report(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"])
    assert spec.metrics == ("after_hours_minutes", "emails_sent", "meeting_minutes")


def test_window_objects_and_keys_are_accepted_alike(policy: Policy) -> None:
    by_key = ReleaseSpec.build(policy, "team_weekly", ["2026-W02"])
    by_object = ReleaseSpec.build(policy, "team_weekly", [Window(Cadence.WEEK, "2026-W02")])
    assert by_key == by_object


def test_semantically_equal_specs_have_equal_keys(policy: Policy) -> None:
    first = ReleaseSpec.build(
        policy, "team_weekly", ["2026-W03", "2026-W01"], ["meeting_minutes", "emails_sent"]
    )
    second = ReleaseSpec.build(
        policy,
        "team_weekly",
        ["2026-W01", Window(Cadence.WEEK, "2026-W03"), "2026-W03"],
        ["emails_sent", "meeting_minutes"],
    )
    assert first == second
    assert first.key == second.key
    assert ReleaseSpec.build(policy, "team_weekly", ["2026-W01", "2026-W03"]).key == first.key


def test_different_specs_have_different_keys(policy: Policy) -> None:
    base = ReleaseSpec.build(policy, "team_weekly", ["2026-W01"])
    keys = {
        base.key,
        ReleaseSpec.build(policy, "team_weekly", ["2026-W02"]).key,
        ReleaseSpec.build(policy, "team_weekly", ["2026-W01"], ["emails_sent"]).key,
        ReleaseSpec.build(policy, "organisation_quarterly", ["2026-Q1"]).key,
    }
    assert len(keys) == 4
    assert "2026-W01" in base.key
    assert "team_weekly" in base.key


def test_a_spec_built_directly_is_canonical_too(policy: Policy) -> None:
    w1, w3 = Window(Cadence.WEEK, "2026-W01"), Window(Cadence.WEEK, "2026-W03")
    direct = ReleaseSpec(
        "team_weekly", GroupLevel.TEAM, (w3, w1, w3), ("meeting_minutes", "emails_sent", "emails_sent")
    )
    built = ReleaseSpec.build(policy, "team_weekly", ["2026-W01", "2026-W03"])
    assert direct.windows == (w1, w3)
    assert direct.metrics == ("emails_sent", "meeting_minutes")
    assert direct == built
    assert direct.key == built.key


def test_specs_are_immutable(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "team_weekly", ["2026-W01"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.report_id = "other"  # type: ignore[misc]


def test_an_unknown_report_names_the_catalogue(policy: Policy) -> None:
    with pytest.raises(ReleaseError) as caught:
        ReleaseSpec.build(policy, "person_daily", ["2026-W01"])
    assert "'person_daily' is not a report in the approved catalogue" in caught.value.message
    assert caught.value.hint == (
        "Use one of the catalogue's reports: department_monthly, organisation_quarterly, team_weekly."
    )


def test_a_window_of_another_cadence_is_refused_with_the_valid_range(policy: Policy) -> None:
    with pytest.raises(ReleaseError) as caught:
        ReleaseSpec.build(policy, "department_monthly", ["2026-W05"])
    assert caught.value.message == (
        "window '2026-W05' is a week window but report 'department_monthly' is released per month"
    )
    assert caught.value.hint == (
        "Report 'department_monthly' is released per month; "
        "valid windows run from 2026-01 to 2026-03 (3 windows)."
    )


def test_a_window_object_of_another_cadence_is_refused(policy: Policy) -> None:
    with pytest.raises(ReleaseError, match="is a quarter window"):
        ReleaseSpec.build(policy, "department_monthly", [Window(Cadence.QUARTER, "2026-Q1")])


@pytest.mark.parametrize("key", ["2026-04", "2025-12", "2026-W14", "2026-Q2"])
def test_a_window_outside_the_period_is_refused(policy: Policy, key: str) -> None:
    report = {"2026-04": "department_monthly", "2025-12": "department_monthly"}.get(
        key, "team_weekly" if "W" in key else "organisation_quarterly"
    )
    with pytest.raises(ReleaseError) as caught:
        ReleaseSpec.build(policy, report, [key])
    assert caught.value.message == (
        f"window '{key}' is not wholly inside the policy period 2025-12-29 to 2026-03-30 (exclusive)"
    )
    assert "valid windows run from" in caught.value.hint


def test_a_window_that_straddles_the_period_start_is_refused() -> None:
    # January 2026 starts on Monday 29 December 2025; a period starting on 1 January cuts it.
    late = build_policy(period_start=dt.date(2026, 1, 1))
    with pytest.raises(ReleaseError) as caught:
        ReleaseSpec.build(late, "department_monthly", ["2026-01"])
    assert "not wholly inside the policy period 2026-01-01" in caught.value.message
    assert "valid windows run from 2026-02 to 2026-03 (2 windows)" in caught.value.hint


@pytest.mark.parametrize("key", ["2026-13", "yesterday", "2026-W5", ""])
def test_a_malformed_window_is_refused(policy: Policy, key: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        ReleaseSpec.build(policy, "department_monthly", [key])
    assert caught.value.message == f"'{key}' is not a window key (expected 2026-W05, 2026-03 or 2026-Q1)"
    assert "valid windows run from 2026-01 to 2026-03" in caught.value.hint


def test_no_windows_is_refused(policy: Policy) -> None:
    with pytest.raises(ReleaseError, match="no window was named"):
        ReleaseSpec.build(policy, "department_monthly", [])


def test_a_report_whose_cadence_does_not_fit_the_period_says_so() -> None:
    short = build_policy(period_end=dt.date(2026, 2, 2))
    with pytest.raises(ReleaseError) as caught:
        ReleaseSpec.build(short, "organisation_quarterly", ["2026-Q1"])
    assert caught.value.hint == (
        "The policy period holds no whole quarter window, so report 'organisation_quarterly' "
        "cannot be released in this period."
    )


def test_a_metric_outside_the_report_is_refused(policy: Policy) -> None:
    with pytest.raises(ReleaseError) as caught:
        ReleaseSpec.build(policy, "team_weekly", ["2026-W01"], ["meeting_minutes", "after_hours_minutes"])
    assert caught.value.message == "report 'team_weekly' does not include the metric(s) after_hours_minutes"
    assert caught.value.hint == "Report 'team_weekly' has the metrics: emails_sent, meeting_minutes."


def test_an_empty_metric_list_is_refused(policy: Policy) -> None:
    with pytest.raises(ReleaseError, match="empty metric list"):
        ReleaseSpec.build(policy, "team_weekly", ["2026-W01"], [])


def test_a_bare_string_is_one_window_and_one_metric(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "team_weekly", "2026-W01", "emails_sent")
    assert spec.windows == (Window(Cadence.WEEK, "2026-W01"),)
    assert spec.metrics == ("emails_sent",)

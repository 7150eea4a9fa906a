"""The read context carries the policy's decisions to the edge; the report carries counts back."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from teamlens.domain import (
    Cadence,
    Exclusions,
    GroupLevel,
    LawfulBasis,
    MetricBound,
    Policy,
    Purpose,
    ReportDef,
    Rho,
    WorkingHours,
)
from teamlens.errors import InternalError
from teamlens.sources import ReadContext, ReadReport


def policy() -> Policy:
    return Policy(
        policy_id="p",
        version=1,
        title="t",
        purpose=Purpose.TEAM_WORKLOAD,
        lawful_basis=LawfulBasis.COLLECTIVE_AGREEMENT,
        controller="c",
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 7, 1),
        review_date=dt.date(2024, 6, 1),
        retention_days=180,
        sources=("m365_email_activity",),
        metrics=(MetricBound("emails_sent", 500), MetricBound("calls", 40)),
        grouping_levels=(GroupLevel.TEAM,),
        min_group_size=10,
        rho=Rho.of("1/2"),
        delta=1e-6,
        reports=(ReportDef("r", "R", GroupLevel.TEAM, Cadence.MONTH, ("calls",), Fraction(1)),),
        exclusions=Exclusions(addresses=("union@x.org",)),
        working_hours=WorkingHours(start=dt.time(8, 0)),
    )


def test_from_policy_takes_metrics_exclusions_and_working_hours() -> None:
    ctx = ReadContext.from_policy(policy(), str.upper, frozenset({"abc"}))
    assert ctx.metrics == frozenset({"emails_sent", "calls"})
    assert ctx.exclusions.addresses == ("union@x.org",)
    assert ctx.working_hours.start == dt.time(8, 0)
    assert ctx.excluded_persons == frozenset({"abc"})
    assert ctx.pseudonymise("a") == "A"


def test_metrics_outside_the_catalogue_are_a_bug() -> None:
    with pytest.raises(InternalError, match="no_such_metric"):
        ReadContext(pseudonymise=str, metrics=frozenset({"emails_sent", "no_such_metric"}))


def test_batch_rows_must_be_positive() -> None:
    with pytest.raises(InternalError, match="batch_rows"):
        ReadContext(pseudonymise=str, metrics=frozenset(), batch_rows=0)


def test_report_notes_are_kept_once_in_order() -> None:
    report = ReadReport()
    report.note("b")
    report.note("a")
    report.note("b")
    assert report.notes == ["b", "a"]

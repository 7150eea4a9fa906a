"""Connectors for the other Microsoft 365 user-detail reports: OneDrive, SharePoint, active users.

OneDrive and SharePoint activity (``getOneDriveActivityUserDetail``,
``getSharePointActivityUserDetail``) feed the same three metrics — files viewed or edited, shared
internally, shared externally — under two source names, so a person's OneDrive and SharePoint
facts for one day never replace each other in the store and releases add them up. Their
``Report Period`` is handled like every usage report's, with spreading on: D7 ending on a Sunday
gives weekly facts, daily reports daily facts, and D30/D90/D180 are spread evenly over their days
(see ``m365_reports.py``).

``getOffice365ActiveUserDetail`` has no period: it is a snapshot at its ``Report Refresh Date``
holding, per app, the date of the person's last activity. ``apps_active`` counts the apps whose
last activity falls in the ISO week of the refresh date, up to that date, as one weekly fact.
That count is exact for the week so far: an app used in the week has its last activity on or
after that Monday unless it was used again after the refresh date, which the snapshot cannot
show. A snapshot refreshed on a Sunday therefore covers the whole week; an earlier one covers
part of it (a note says so) and a later snapshot of the same week replaces it in the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain.vendor_formats import OFFICE365_HEADER, ONEDRIVE_HEADER, SHAREPOINT_HEADER
from teamlens.sources.columns import dates
from teamlens.sources.context import ReadReport
from teamlens.sources.csv_table import CsvBatch
from teamlens.sources.m365_reports import (
    PERIOD,
    REFRESH,
    SUNDAY,
    UPN,
    MetricRule,
    ReportPeriod,
    UsageReportReader,
)

#: The per-app columns of getOffice365ActiveUserDetail that ``apps_active`` counts.
APP_ACTIVITY_COLUMNS = (
    "Exchange Last Activity Date",
    "OneDrive Last Activity Date",
    "SharePoint Last Activity Date",
    "Skype For Business Last Activity Date",
    "Yammer Last Activity Date",
    "Teams Last Activity Date",
)
VISITED_PAGES = "Visited Page Count"
PARTIAL_WEEK_NOTE = (
    "this active-user snapshot was refreshed before the end of its ISO week, so apps_active "
    "covers the week up to the refresh date; a snapshot refreshed on the Sunday replaces it"
)
_FILE_RULES = (
    MetricRule("files_edited", ("Viewed Or Edited File Count",)),
    MetricRule("files_shared_internally", ("Shared Internally File Count",)),
    MetricRule("files_shared_externally", ("Shared Externally File Count",)),
)


@dataclass(frozen=True)
class SnapshotWeek:
    """The period of a snapshot report: the ISO week of its refresh date, as one weekly fact."""

    @property
    def columns(self) -> tuple[str, ...]:
        """None: the snapshot has only its refresh date."""
        return ()

    def __call__(self, batch: CsvBatch, report: ReadReport) -> tuple[pa.Array, pa.Array]:
        """The Monday of each row's refresh week, and 7 days."""
        refresh = dates(batch, REFRESH)
        if not pc.all(pc.equal(pc.day_of_week(refresh), SUNDAY)).as_py():
            report.note(PARTIAL_WEEK_NOTE)
        return _monday(refresh), pa.nulls(batch.num_rows, pa.int64()).fill_null(7)


@dataclass(frozen=True)
class ActiveAppsRule(MetricRule):
    """``apps_active``: how many of ``columns`` hold a date in the refresh week, up to the refresh date."""

    def values(self, batch: CsvBatch) -> pa.Array:
        """The number of apps each row used in its refresh week (int64, 0 to ``len(columns)``)."""
        refresh = dates(batch, REFRESH)
        monday = _monday(refresh)
        total = pa.nulls(batch.num_rows, pa.int64()).fill_null(0)
        for column in self.columns:
            last = dates(batch, column, optional=True)
            # A null date (the app never used) compares as null: filled as not active.
            in_week = pc.and_(pc.greater_equal(last, monday), pc.less_equal(last, refresh))
            active = pc.fill_null(in_week, False)
            total = pc.add(total, pc.cast(active, pa.int64()))
        return total


def _monday(day: pa.Array) -> pa.Array:
    as_number = pc.cast(day, pa.int32())
    return pc.cast(pc.subtract(as_number, pc.cast(pc.day_of_week(day), pa.int32())), pa.date32())


ONEDRIVE_ACTIVITY = UsageReportReader(
    name="m365_onedrive_activity",
    description="OneDrive activity per user (Graph getOneDriveActivityUserDetail CSV, D7 or date=)",
    api="getOneDriveActivityUserDetail",
    header=ONEDRIVE_HEADER,
    rules=_FILE_RULES,
    signature=(REFRESH, UPN, "Viewed Or Edited File Count", "Synced File Count", PERIOD),
    period=ReportPeriod(spread=True),
    # SharePoint's header is OneDrive's plus this column: without it both would claim the file.
    absent=(VISITED_PAGES,),
)

SHAREPOINT_ACTIVITY = UsageReportReader(
    name="m365_sharepoint_activity",
    description="SharePoint activity per user (Graph getSharePointActivityUserDetail CSV, D7 or date=)",
    api="getSharePointActivityUserDetail",
    header=SHAREPOINT_HEADER,
    rules=_FILE_RULES,
    signature=(REFRESH, UPN, "Viewed Or Edited File Count", VISITED_PAGES, PERIOD),
    period=ReportPeriod(spread=True),
)

OFFICE365_ACTIVE = UsageReportReader(
    name="m365_active_users",
    description=(
        "Microsoft 365 apps used per user in the refresh week (Graph getOffice365ActiveUserDetail "
        "CSV, best refreshed on a Sunday)"
    ),
    api="getOffice365ActiveUserDetail",
    header=OFFICE365_HEADER,
    rules=(ActiveAppsRule("apps_active", APP_ACTIVITY_COLUMNS),),
    signature=(REFRESH, UPN, "Exchange Last Activity Date", "Teams Last Activity Date"),
    period=SnapshotWeek(),
)

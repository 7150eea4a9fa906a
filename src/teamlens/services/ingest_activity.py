"""The facts that combine sources, committed once an ingestion has read every input.

The calendar, mail and chat readers of one ingestion record raw events in a shared timeline
(``sources/activity.py``); usage reports tell which tools each person used, seen here as their
facts pass on to the store. When every input is read, ``commit_activity`` stores the combined
facts as one more atomic batch, keyed by the inputs it was computed from, so the same set of
inputs read again changes nothing. Inputs already stored are read again (their facts thrown
away) while the combined batch is missing, so that a run cut short after some inputs still ends
with the combined facts of all of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import Policy
from teamlens.services.workspace import Workspace
from teamlens.sources import ReadContext
from teamlens.sources.activity import Activity
from teamlens.sources.activity_metrics import (
    ACTIVITY_SOURCE,
    TIMELINE_METRICS,
    activity_edges,
    activity_facts,
)

#: Which tool of the adoption metrics each usage-report metric shows was used.
TOOL_OF_METRIC = {
    **dict.fromkeys(("emails_sent", "emails_received", "emails_read"), "email"),
    **dict.fromkeys(("chat_messages", "thread_replies", "reactions_given"), "chat"),
    **dict.fromkeys(
        (
            "meetings_attended",
            "meeting_minutes",
            "calls",
            "meetings_organized",
            "adhoc_meetings_attended",
            "one_time_meetings_attended",
        ),
        "meetings",
    ),
    **dict.fromkeys(("files_edited", "files_shared_internally", "files_shared_externally"), "files"),
}


def activity_key(digests: Sequence[str]) -> str:
    """The batch key of the combined facts of an ingestion of the inputs with ``digests``."""
    joined = "\0".join(sorted(set(digests)))
    return hashlib.sha256(f"{ACTIVITY_SOURCE}\0{joined}".encode()).hexdigest()


def new_activity(ws: Workspace, policy: Policy, digests: Sequence[str]) -> Activity:
    """The timeline of this ingestion: enabled when the policy wants a combined metric not yet stored."""
    wanted = bool(policy.metric_names & TIMELINE_METRICS) and bool(digests)
    return Activity(enabled=wanted and not ws.store.has_batch(activity_key(digests)))


def observed(facts: Iterable[pa.RecordBatch], activity: Activity) -> Iterator[pa.RecordBatch]:
    """Pass ``facts`` on unchanged, recording in ``activity`` which tools each person used when."""
    for batch in facts:
        if activity.enabled:
            used = batch.filter(
                pc.and_(
                    pc.is_in(batch["metric"], pa.array(list(TOOL_OF_METRIC))), pc.greater(batch["value"], 0)
                )
            )
            for person, day, name in zip(
                used["person"].to_pylist(), used["day"].to_pylist(), used["metric"].to_pylist(), strict=True
            ):
                activity.record_tool(person, day, TOOL_OF_METRIC[name])
        yield batch


def commit_activity(
    ws: Workspace, ctx: ReadContext, digests: Sequence[str], actor: str
) -> tuple[int, int] | None:
    """Store the combined facts of this ingestion's timeline: (facts, people), or None when none."""
    if not ctx.activity.enabled or not ctx.activity:
        return None
    key = activity_key(digests)
    label = f"{ACTIVITY_SOURCE}:{key[:12]}"
    summary = ws.store.commit(
        content_hash=key,
        source=ACTIVITY_SOURCE,
        label=label,
        facts=activity_facts(ctx.activity, ctx),
        edges=activity_edges(ctx.activity, ctx),
    )
    rows = summary.rows_received - summary.duplicate_keys
    ws.governance.record_ingestion(key, ACTIVITY_SOURCE, label, rows, actor)
    return rows, len(ctx.activity.people())

"""Which pseudonymisation key the database's pseudonyms are under, and re-keying them in one go (R35).

``pseudonym_keys`` lists each key by its id (``key_id``: a one-way digest of the key that
helps no one compute a pseudonym) with when it started and when it was retired; the row
without ``retired_at`` is the key in force. ``rekey`` is the database half of a rotation: in
the caller's one transaction it moves every stored pseudonym (objections, rights requests), every
keyed hash of one (view slots, API-token owners) and every sealed sign-in (web sessions, deleted:
each worker binds again by signing in) from the old key to the new, retires the old key's row,
adds the new one and writes a ``keys.rotate`` audit entry with counts and key ids only. The
mapping from old to new values lives in the caller's memory and is never written anywhere; the
committed transaction is the rotation's one point of decision (``services.key_rotation``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from teamlens.errors import PolicyError
from teamlens.governance import audit_log
from teamlens.governance.api_tokens import api_tokens
from teamlens.governance.tables import (
    as_utc,
    metadata,
    objections,
    rights_requests,
    view_slots,
    web_sessions,
)

#: The audit action recording a rotation (read by the representative and the DPO on the log page).
ROTATED = "keys.rotate"
_HASH = 64
_WHEN = sa.DateTime(timezone=True)

pseudonym_keys = sa.Table(
    "pseudonym_keys",
    metadata,
    sa.Column("key_id", sa.String(_HASH), primary_key=True),
    sa.Column("started_at", _WHEN, nullable=False),
    sa.Column("retired_at", _WHEN, nullable=True),
)

#: Rights requests still being acted on: they must follow their worker to the new key.
_OPEN = ("open", "countersigned")


@dataclass(frozen=True)
class Rekeyed:
    """What the database half of a rotation moved to the new key, dropped or ended, by class."""

    objections: int = 0
    objections_dropped: int = 0
    requests: int = 0
    requests_cleared: int = 0
    view_slots: int = 0
    view_slots_dropped: int = 0
    api_tokens: int = 0
    api_tokens_revoked: int = 0
    sessions_ended: int = 0

    def counts(self) -> dict[str, int]:
        """The counts by name, for the audit entry and the command's output."""
        return dict(self.__dict__)


def current(conn: sa.Connection) -> str | None:
    """The id of the key in force, or None before the first rotation recorded one."""
    found = conn.execute(
        sa.select(pseudonym_keys.c.key_id).where(pseudonym_keys.c.retired_at.is_(None))
    ).scalar_one_or_none()
    return None if found is None else str(found)


def started(conn: sa.Connection) -> dt.datetime | None:
    """When the key in force started, or None before the first rotation recorded one."""
    found = conn.execute(
        sa.select(pseudonym_keys.c.started_at).where(pseudonym_keys.c.retired_at.is_(None))
    ).scalar_one_or_none()
    return None if found is None else as_utc(found)


def rekey(
    conn: sa.Connection,
    *,
    old_id: str,
    new_id: str,
    pseudonyms: Mapping[str, str],
    voters: Callable[[str, int], Mapping[str, str]],
    owners: Mapping[str, str],
    actor: str,
    now: dt.datetime,
    details: Mapping[str, object],
) -> Rekeyed:
    """Move the database to the new key in the caller's transaction (module docstring).

    ``pseudonyms`` maps each old pseudonym of a worker who stays to their new one; ``voters``
    gives, for one proposal (policy id, version), old view-slot hashes to new ones; ``owners``
    maps old API-token owner hashes to new ones. An open rights request about someone not in
    ``pseudonyms`` refuses the whole rotation: it must be answered first.
    """
    in_force = current(conn)
    if in_force not in (None, old_id):
        raise PolicyError(
            "The pseudonymisation key given is not the key this database's pseudonyms are under. "
            "Nothing was changed.",
            "Rotate with the key file in force (TEAMLENS_KEY_FILE).",
        )
    open_requests = conn.execute(
        sa.select(rights_requests.c.request_id, rights_requests.c.pseudonym).where(
            rights_requests.c.state.in_(_OPEN)
        )
    )
    stranded_ids = sorted(str(request) for request, about in open_requests if about not in pseudonyms)
    if stranded_ids:
        raise PolicyError(
            f"{len(stranded_ids)} open rights request(s) ({', '.join(stranded_ids)}) are about "
            "someone the directory given no longer lists, so they cannot follow to the new key. "
            "Nothing was changed.",
            "Fulfil or withdraw them first (`teamlens rights list`), or give the directory that lists them.",
        )
    moved = _objections(conn, pseudonyms)
    requests = _requests(conn, pseudonyms)
    slots = _slots(conn, voters)
    tokens = _tokens(conn, owners)
    ended = conn.execute(web_sessions.delete()).rowcount or 0
    if in_force is None:
        conn.execute(pseudonym_keys.insert().values(key_id=old_id, started_at=now, retired_at=now))
    else:
        conn.execute(pseudonym_keys.update().where(pseudonym_keys.c.key_id == old_id).values(retired_at=now))
    conn.execute(pseudonym_keys.insert().values(key_id=new_id, started_at=now, retired_at=None))
    result = Rekeyed(*moved, *requests, *slots, *tokens, ended)
    audit_log.append(
        conn, now, actor, ROTATED, {"old_key": old_id, "new_key": new_id, **result.counts(), **details}
    )
    return result


def _objections(conn: sa.Connection, pseudonyms: Mapping[str, str]) -> tuple[int, int]:
    moved = dropped = 0
    for old in list(conn.execute(sa.select(objections.c.pseudonym)).scalars()):
        new = pseudonyms.get(old)
        if new is None:  # a leaver: their facts go at this rotation, so nothing is left to exclude
            conn.execute(objections.delete().where(objections.c.pseudonym == old))
            dropped += 1
        else:
            conn.execute(objections.update().where(objections.c.pseudonym == old).values(pseudonym=new))
            moved += 1
    return moved, dropped


def _requests(conn: sa.Connection, pseudonyms: Mapping[str, str]) -> tuple[int, int]:
    moved = cleared = 0
    rows = list(conn.execute(sa.select(rights_requests.c.request_id, rights_requests.c.pseudonym)))
    for request_id, old in rows:
        if old == "":
            continue
        new = pseudonyms.get(old)
        # A finished request about a leaver stays on record, about no one (checked above: none is open).
        conn.execute(
            rights_requests.update()
            .where(rights_requests.c.request_id == request_id)
            .values(pseudonym="" if new is None else new)
        )
        moved, cleared = (moved, cleared + 1) if new is None else (moved + 1, cleared)
    return moved, cleared


def _slots(conn: sa.Connection, voters: Callable[[str, int], Mapping[str, str]]) -> tuple[int, int]:
    moved = dropped = 0
    proposals = conn.execute(sa.select(view_slots.c.policy_id, view_slots.c.version).distinct()).all()
    for policy_id, version in proposals:
        mapping = voters(str(policy_id), int(version))
        same = (view_slots.c.policy_id == policy_id) & (view_slots.c.version == version)
        for old in list(conn.execute(sa.select(view_slots.c.voter).where(same)).scalars()):
            new = mapping.get(old)
            if new is None:  # the view itself stays in the consultation; only its slot goes
                conn.execute(view_slots.delete().where(same & (view_slots.c.voter == old)))
                dropped += 1
            else:
                conn.execute(view_slots.update().where(same & (view_slots.c.voter == old)).values(voter=new))
                moved += 1
    return moved, dropped


def _tokens(conn: sa.Connection, owners: Mapping[str, str]) -> tuple[int, int]:
    moved = revoked = 0
    for token_hash, old in list(conn.execute(sa.select(api_tokens.c.token_hash, api_tokens.c.owner))):
        new = owners.get(old)
        if new is None:
            conn.execute(api_tokens.delete().where(api_tokens.c.token_hash == token_hash))
            revoked += 1
        else:
            conn.execute(api_tokens.update().where(api_tokens.c.token_hash == token_hash).values(owner=new))
            moved += 1
    return moved, revoked

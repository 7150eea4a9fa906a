"""Personal API tokens: an analyst's bearer credential for the read-only HTTP API, revocable.

The analyst is shown the token once; the table keeps its SHA-256 only, with a short public id
(to list and revoke it by), a label the analyst chose, an owner key (a hash of the analyst's
pseudonym, which links the row to no one without the installation's pseudonym key), the hash
of the role mapping in force when it was made (a change of mapping ends it, as it ends web
sessions), and when it was made, expires and was revoked. ``get`` never returns a revoked
token; expiry and the mapping are checked by the service (``services.api_tokens``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from teamlens.governance.tables import as_utc, metadata

_HASH = 64
_WHEN = sa.DateTime(timezone=True)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(_HASH), primary_key=True),
    sa.Column("token_id", sa.String(16), nullable=False, unique=True),
    sa.Column("owner", sa.String(_HASH), nullable=False, index=True),
    sa.Column("label", sa.String(80), nullable=False),
    sa.Column("roles_sha256", sa.String(_HASH), nullable=False),
    sa.Column("created_at", _WHEN, nullable=False),
    sa.Column("expires_at", _WHEN, nullable=False),
    sa.Column("revoked_at", _WHEN, nullable=True),
)


@dataclass(frozen=True)
class StoredToken:
    """One live (unrevoked) token as kept: its public id, owner key, label, mapping hash and times."""

    token_id: str
    owner: str
    label: str
    roles_sha256: str
    created_at: dt.datetime
    expires_at: dt.datetime


def _stored(row: sa.Row[tuple[object, ...]]) -> StoredToken:
    return StoredToken(
        str(row.token_id),
        str(row.owner),
        str(row.label),
        str(row.roles_sha256),
        as_utc(row.created_at),
        as_utc(row.expires_at),
    )


def create(conn: sa.Connection, token_hash: str, token: StoredToken) -> None:
    """Keep a new token (by its hash)."""
    conn.execute(
        api_tokens.insert().values(
            token_hash=token_hash,
            token_id=token.token_id,
            owner=token.owner,
            label=token.label,
            roles_sha256=token.roles_sha256,
            created_at=token.created_at,
            expires_at=token.expires_at,
        )
    )


def get(conn: sa.Connection, token_hash: str) -> StoredToken | None:
    """The unrevoked token with this hash, or None."""
    row = conn.execute(
        sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
    ).one_or_none()
    return None if row is None else _stored(row)


def owned(conn: sa.Connection, owner: str) -> list[StoredToken]:
    """An owner's unrevoked tokens, newest first (expired ones included: the service says so)."""
    rows = conn.execute(
        sa.select(api_tokens)
        .where(api_tokens.c.owner == owner, api_tokens.c.revoked_at.is_(None))
        .order_by(api_tokens.c.created_at.desc(), api_tokens.c.token_id)
    )
    return [_stored(row) for row in rows]


def revoke(
    conn: sa.Connection,
    now: dt.datetime,
    *,
    owner: str | None = None,
    token_id: str | None = None,
    token_hash: str | None = None,
    made_under_other_than: str | None = None,
) -> int:
    """Revoke the matching live tokens (by owner, id, hash, or made under another role mapping than
    the one given; all of them with no filter)."""
    query = api_tokens.update().where(api_tokens.c.revoked_at.is_(None))
    if owner is not None:
        query = query.where(api_tokens.c.owner == owner)
    if token_id is not None:
        query = query.where(api_tokens.c.token_id == token_id)
    if token_hash is not None:
        query = query.where(api_tokens.c.token_hash == token_hash)
    if made_under_other_than is not None:
        query = query.where(api_tokens.c.roles_sha256 != made_under_other_than)
    return int(conn.execute(query.values(revoked_at=now)).rowcount)

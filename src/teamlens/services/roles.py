"""Who may do what in the web app: roles from the identity provider's groups or an address allow-list.

Everyone who signs in is a **worker** (their own page, their views). The other roles come from the
roles file (``TEAMLENS_ROLES_FILE``), a TOML document such as::

    claim = "groups"                       # the ID-token claim listing the user's groups

    [analyst]                              # released reports and their downloads
    groups = ["3f2e…-hr-analysts"]
    addresses = ["ann@example.org"]

    [representative]                       # proposals, approvals (with their passkey), audit log
    addresses = ["rob@example.org"]

    [dpo]                                  # rights requests, the DPIA
    [admin]                                # sources and settings; no data beyond the analysts'

A role counts only while the file is the one both parties approved: its SHA-256 is part of the
key set they signed (``keys``), and is shown on ``/policy``. Edit the file and every privileged
role stops (and every session started under the old file ends) until both parties sign again.
Every role but worker is privileged and needs a second factor (``sign_in``).
"""

from __future__ import annotations

import enum
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from teamlens.errors import ConfigError
from teamlens.services.workspace import Workspace


class Role(enum.StrEnum):
    """A role in the web app."""

    WORKER = "worker"
    ANALYST = "analyst"
    REPRESENTATIVE = "representative"
    DPO = "dpo"
    ADMIN = "admin"


#: The roles that need a second factor (R31): every role that sees more than one's own data.
PRIVILEGED = frozenset({Role.ANALYST, Role.REPRESENTATIVE, Role.DPO, Role.ADMIN})
_GRANTABLE = tuple(role for role in Role if role is not Role.WORKER)


@dataclass(frozen=True)
class RoleMap:
    """The roles file as read: the group claim, the groups and addresses of each role, the file's hash."""

    claim: str = "groups"
    groups: Mapping[Role, frozenset[str]] = field(default_factory=dict)
    addresses: Mapping[Role, frozenset[str]] = field(default_factory=dict)
    sha256: str = hashlib.sha256(b"").hexdigest()

    def roles_for(self, address: str, claims: Mapping[str, Any]) -> frozenset[Role]:
        """The roles of a signed-in user: worker, plus each role whose groups or addresses list them."""
        held = claims.get(self.claim)
        groups = {str(g) for g in held} if isinstance(held, list) else set()
        found = {Role.WORKER}
        for role in _GRANTABLE:
            if address.lower() in self.addresses.get(role, frozenset()) or groups & self.groups.get(
                role, frozenset()
            ):
                found.add(role)
        return frozenset(found)


def role_map(ws: Workspace) -> RoleMap:
    """The roles file of this installation (an empty map when none is set)."""
    path = ws.settings.roles_file
    if path is None:
        return RoleMap()
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(
            f"The roles file {path} cannot be read ({type(error).__name__}: {error}).",
            "Check TEAMLENS_ROLES_FILE; docs/worker-sign-in.md shows the format.",
        ) from None
    unknown = set(data) - {"claim", *(role.value for role in _GRANTABLE)}
    if unknown:
        raise ConfigError(
            f"The roles file {path} names {', '.join(sorted(unknown))}, which is not a role.",
            f"Roles: {', '.join(role.value for role in _GRANTABLE)}.",
        )
    groups: dict[Role, frozenset[str]] = {role: _strings(data, role, "groups", path) for role in _GRANTABLE}
    addresses: dict[Role, frozenset[str]] = {
        role: frozenset(a.lower() for a in _strings(data, role, "addresses", path)) for role in _GRANTABLE
    }
    return RoleMap(str(data.get("claim", "groups")), groups, addresses, hashlib.sha256(raw).hexdigest())


def _strings(data: Mapping[str, Any], role: Role, name: str, path: object) -> frozenset[str]:
    values = data.get(role.value, {}).get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"In the roles file {path}, [{role.value}] {name} must be a list of strings.")
    return frozenset(values)


def mapping_approved(ws: Workspace) -> bool:
    """Whether the roles file in force is the one both parties signed into the registered key set."""
    keys = ws.governance.registered_keys()
    return keys is not None and keys.roles_sha256 == role_map(ws).sha256

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

Every signed-in request checks the mapping, so the file read is kept, by its path, with the
file's inode, size, modification and change times: any write changes one of those, and the file
is read again on the next request. A file changed in the last two seconds is read again each
time (a write within the filesystem's timestamp granularity could leave the times equal), as
git does with its index. When the file read holds another mapping than the one kept (or is the
first read of this process), the analysts' API tokens made under any other mapping are revoked.
"""

from __future__ import annotations

import enum
import hashlib
import threading
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
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


#: How long after a write the file's times are not trusted to tell it changed (nanoseconds).
_RACY_NS = 2_000_000_000
_read_maps: dict[Path, tuple[tuple[int, int, int, int], RoleMap]] = {}
_reading = threading.Lock()


def role_map(ws: Workspace) -> RoleMap:
    """The roles file of this installation (an empty map when none is set), read again when it changed."""
    path = ws.settings.roles_file
    if path is None:
        return RoleMap()
    try:
        info = path.stat()
    except OSError as error:
        raise _unreadable(path, error) from None
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    kept = _read_maps.get(path)
    if kept is not None and kept[0] == stamp and time.time_ns() - max(stamp[2:]) > _RACY_NS:
        return kept[1]
    mapping = _read(path)  # stat first: a write after it changes the stamp the next request sees
    if kept is None or kept[1].sha256 != mapping.sha256:
        # A new mapping: API tokens made under any other one end for good (``api_tokens``).
        ws.governance.revoke_api_tokens(made_under_other_than=mapping.sha256)
    with _reading:
        _read_maps[path] = (stamp, mapping)
    return mapping


def _unreadable(path: Path, error: Exception) -> ConfigError:
    return ConfigError(
        f"The roles file {path} cannot be read ({type(error).__name__}: {error}).",
        "Check TEAMLENS_ROLES_FILE; docs/worker-sign-in.md shows the format.",
    )


def _read(path: Path) -> RoleMap:
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise _unreadable(path, error) from None
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

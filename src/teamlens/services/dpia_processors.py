"""The DPIA's processors, hosting and data locations, read from this installation's settings (R29).

Two sources, shown side by side so that neither can hide the other:

- what the operator declares: ``TEAMLENS_HOSTING`` (who runs the teamlens server and where) and
  ``TEAMLENS_PROCESSORS``, entries ``name | service | location`` separated by ``;``;
- what the settings and the policy connect to: the sign-in identity provider, a governance
  database on another host, the live connectors the policy names. Each is listed with its host
  whether or not a declared processor covers it; one no declared entry names is flagged, so a
  connection nobody described cannot go unseen in the signed DPIA.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from teamlens.domain import Policy
from teamlens.errors import ConfigError
from teamlens.settings import Settings

#: Live connectors that call a provider's API, with who runs it.
_LIVE_SOURCES = {
    "graph_live": ("Microsoft Graph API", "graph.microsoft.com"),
    "google_reports_live": ("Google Admin SDK Reports API", "admin.googleapis.com"),
}
_LOCAL = {"", "localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Processor:
    """A processor the operator declared: who, for which service, where the data is."""

    name: str
    service: str
    location: str


@dataclass(frozen=True)
class Connection:
    """An outbound connection the settings or the policy make, and the declared processor for it."""

    service: str
    host: str
    declared_by: str | None


@dataclass(frozen=True)
class DataFlows:
    """Everything the DPIA's processors section shows."""

    hosting: str | None
    processors: tuple[Processor, ...]
    connections: tuple[Connection, ...]
    locations: tuple[tuple[str, str], ...]

    @property
    def undeclared(self) -> tuple[Connection, ...]:
        """Connections no declared processor names."""
        return tuple(connection for connection in self.connections if connection.declared_by is None)


def declared_processors(text: str | None) -> tuple[Processor, ...]:
    """Read ``TEAMLENS_PROCESSORS``; a malformed entry is a ``ConfigError`` naming it."""
    found: list[Processor] = []
    for number, entry in enumerate((text or "").split(";"), start=1):
        if not entry.strip():
            continue
        parts = [part.strip() for part in entry.split("|")]
        if len(parts) != 3 or not all(parts):
            raise ConfigError(
                f"TEAMLENS_PROCESSORS entry {number} ({entry.strip()!r}) is not 'name | service | location'.",
                "Write each processor as 'Example Cloud Ltd | hosting | London, UK', separated by ';'.",
            )
        found.append(Processor(*parts))
    return tuple(found)


def data_flows(settings: Settings, policy: Policy) -> DataFlows:
    """The processors, outbound connections and data locations of this installation (module docstring)."""
    processors = declared_processors(settings.processors)
    wanted: list[tuple[str, str]] = []
    if settings.oidc_issuer:
        wanted.append(("worker sign-in (OpenID Connect identity provider)", _host(settings.oidc_issuer)))
    if spark_host := _spark_host(settings.spark_master):
        wanted.append(
            ("Spark cluster (TEAMLENS_ENGINE=spark: its executors read the per-person facts)", spark_host)
        )
    database_host = _database_host(settings.governance_url)
    if database_host not in _LOCAL:
        wanted.append(("governance database (policies, ledger, audit log)", database_host))
    for name in policy.sources:
        if name in _LIVE_SOURCES:
            service, host = _LIVE_SOURCES[name]
            wanted.append((f"{service} (the policy's source {name})", host))
    connections = tuple(Connection(service, host, _covering(processors, host)) for service, host in wanted)
    where = settings.hosting or "the teamlens server (not declared: set TEAMLENS_HOSTING)"
    locations = (
        ("Per-person weekly counts (fact store)", f"the data folder on {where}"),
        (
            "Governance database (policies, ledger, audit log; no per-person values)",
            f"{database_host} ({_declared_location(processors, database_host)})"
            if database_host not in _LOCAL
            else f"the data folder on {where}",
        ),
        ("Pseudonymisation key", f"outside the data folder on {where}, or a secret given to the process"),
    )
    return DataFlows(settings.hosting, processors, connections, locations)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or url).lower()


def _spark_host(master: str | None) -> str | None:
    """Where a Spark master sends work: ``spark://h:7077``, ``k8s://https://h`` → ``h``; local → None."""
    if not master or master.startswith("local"):
        return None
    master = master.removeprefix("k8s://")
    return (
        _host(master) if "://" in master else master.lower()
    )  # ``yarn``: the cluster Hadoop's settings name


def _database_host(url: str) -> str:
    """The host of a SQLAlchemy URL ("" for SQLite, a file beside the data)."""
    parsed = urlsplit(url)
    return "" if parsed.scheme.startswith("sqlite") else (parsed.hostname or "").lower()


def _covering(processors: tuple[Processor, ...], host: str) -> str | None:
    """The declared processor whose name or service names ``host`` (or its organisation's domain)."""
    domain = ".".join(host.split(".")[-2:])
    for processor in processors:
        words = f"{processor.name} {processor.service}".lower()
        if host in words or domain in words:
            return processor.name
    return None


def _declared_location(processors: tuple[Processor, ...], host: str) -> str:
    name = _covering(processors, host)
    found = next((p for p in processors if p.name == name), None)
    return found.location if found else "location not declared"

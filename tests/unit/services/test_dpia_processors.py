"""R29: every outbound integration a setting can configure is listed in the DPIA's data flows.

The test walks the settings themselves: any field naming a remote endpoint (``*_url``,
``*_issuer``, ``*_host``, ``*_endpoint``, ``*_master``) is set to a host of its own, and that host must come
out of ``data_flows``. A setting added later for a new integration (mail delivery, a webhook)
fails here until the DPIA lists it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from teamlens.governance import parse_policy, policy_template
from teamlens.services.dpia_processors import data_flows, declared_processors
from teamlens.settings import Settings

#: The server's own address: where teamlens runs, which is the declared hosting, not a processor.
OWN_ADDRESS = {"web_base_url"}
REMOTE = ("_url", "_issuer", "_host", "_endpoint", "_master")


def remote_settings() -> list[str]:
    return sorted(name for name in Settings.model_fields if name.endswith(REMOTE) and name not in OWN_ADDRESS)


def test_the_settings_have_the_integrations_this_test_knows() -> None:
    assert remote_settings() == ["database_url", "oidc_issuer", "spark_master"]


@pytest.mark.parametrize("name", remote_settings())
def test_each_configured_integration_is_a_listed_connection(tmp_path: Path, name: str) -> None:
    host = f"{name.replace('_', '-')}.example.net"
    value = {
        "database_url": f"postgresql+psycopg://u@{host}:5432/db",
        "spark_master": f"spark://{host}:7077",
    }.get(name, f"https://{host}/x")
    settings = Settings(data_dir=tmp_path, **{name: value})
    policy = parse_policy(policy_template(), "t.toml").policy
    flows = data_flows(settings, policy)
    assert host in [connection.host for connection in flows.connections]
    assert [c.host for c in flows.undeclared] == [host]  # nobody declared it, so the DPIA flags it


def test_a_declared_processor_covers_the_host_it_names(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        oidc_issuer="https://login.example.net/t",
        processors="IdP Ltd | sign-in via login.example.net | Dublin",
    )
    flows = data_flows(settings, parse_policy(policy_template(), "t.toml").policy)
    assert flows.undeclared == ()
    assert declared_processors(" ; ") == ()


@pytest.mark.parametrize("master", ["local[2]", "local[*]", None])
def test_a_local_spark_is_no_connection(tmp_path: Path, master: str | None) -> None:
    flows = data_flows(
        Settings(data_dir=tmp_path, spark_master=master), parse_policy(policy_template(), "t.toml").policy
    )
    assert flows.connections == ()


def test_a_kubernetes_master_names_its_api_server(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, spark_master="k8s://https://K8S.example.net:443")
    flows = data_flows(settings, parse_policy(policy_template(), "t.toml").policy)
    assert [c.host for c in flows.undeclared] == ["k8s.example.net"]

"""A11 — timing side channel in noise sampling.

A discrete sampler's running time depends on the noise it draws; a requester who can time the
sampling learns about the noise, so the defence is structural: releases are batch jobs (CLI,
service) and every web route serves the release cache, never calling the sampler. The test
replaces the sampler with one that records any call, then requests every GET route the app has:
no call may happen, and every route must still answer. Teeth: an app with an on-demand release
route (the weakened design) is caught calling the sampler while a request waits.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.privacy import _opendp
from teamlens.privacy import noise as noise_module
from teamlens.web import create_app

from ..integration.flow_support import analyst_client
from ..support.routes import api_routes
from .conftest import Installation


def sampler_calls_during_requests(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, dict[str, int]]:
    """Call every GET route without path parameters; return (sampler calls, status per route)."""
    app: FastAPI = client.app  # type: ignore[assignment]
    calls: list[int] = []

    def recording(totals: Sequence[int], sigma: float) -> list[int]:
        calls.append(len(totals))
        return list(totals)

    monkeypatch.setattr(noise_module, "add_discrete_gaussian", recording)
    monkeypatch.setattr(_opendp, "add_discrete_gaussian", recording)
    statuses = {}
    for route in api_routes(app):
        if "GET" in route.methods and "{" not in route.path:
            statuses[route.path] = client.get(route.path).status_code
    return len(calls), statuses


@pytest.mark.attack("A11")
def test_a11_no_web_route_calls_the_sampler(
    fresh: Installation, monkeypatch: pytest.MonkeyPatch, measure
) -> None:
    services.release(fresh.ws, "department-monthly", ["2026-01"], actor="analyst")
    services.release(fresh.ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    # Signed in as the analyst, so the report routes answer with their figures (not 403/503).
    calls, statuses = sampler_calls_during_requests(analyst_client(fresh.ws), monkeypatch)
    measure(a11_routes=statuses, a11_sampler_calls=calls)
    assert len(statuses) >= 3
    assert all(status < 500 for status in statuses.values())
    assert statuses["/"] == statuses["/api/releases"] == 200
    assert calls == 0


@pytest.mark.attack("A11", teeth=True)
def test_a11_teeth_an_on_demand_release_route_is_caught(
    fresh: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(fresh.ws)

    @app.get("/api/release-now")
    def release_now() -> dict[str, int]:
        table = services.release(fresh.ws, "department-monthly", ["2026-02"], actor="web")
        return {"cells": len(table.cells)}

    calls, statuses = sampler_calls_during_requests(TestClient(app), monkeypatch)
    assert statuses["/api/release-now"] == 200
    assert calls > 0

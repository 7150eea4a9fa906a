"""Every route an app answers, those of its included routers too.

FastAPI (0.165 on) keeps an included router's routes inside the router (``app.routes`` holds one
entry for it), so a test that walks ``app.routes`` alone would miss every route not declared on
the app itself.
"""

from __future__ import annotations

from fastapi.routing import APIRoute


def api_routes(app: object) -> list[APIRoute]:
    """Every APIRoute of ``app``, in order, those of its included routers too (no prefix is used here)."""
    found: list[APIRoute] = []
    pending = list(app.routes)  # type: ignore[attr-defined]
    while pending:
        route = pending.pop(0)
        if hasattr(route, "original_router"):
            pending += route.original_router.routes
        elif isinstance(route, APIRoute):
            found.append(route)
    return found

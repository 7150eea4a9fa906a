"""The web app (FastAPI): :func:`create_app` serves one installation's released reports.

Handlers only resolve dependencies, call a service and render; see ``app.py``.
"""

from teamlens.web.app import create_app

__all__ = ["create_app"]

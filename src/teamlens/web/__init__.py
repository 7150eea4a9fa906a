"""The web app (FastAPI): :func:`create_app` serves one installation's released reports to
everyone and each worker's own data to that worker alone.

Handlers only resolve dependencies, call a service and render. For the reports, see ``app.py``;
for worker sign-in (OpenID Connect with PKCE), ``auth.py`` with ``oidc.py`` (the provider's
client and ID-token checks) and ``session.py`` (signed cookies, CSRF tokens); for the worker's
own page, export and objection, ``me.py`` with ``pages.py`` (typed page contexts, templates);
for the typed dependencies (``CurrentWorker`` and friends), ``deps.py``.
"""

from teamlens.web.app import create_app

__all__ = ["create_app"]

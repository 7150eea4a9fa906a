"""The web app (FastAPI): :func:`create_app` serves one installation's released reports, policy,
register, audit log and consultation to everyone, and each worker's own data to that worker alone.

Handlers only resolve dependencies, call a service and render. For the report page, see ``app.py``;
for the JSON API (released cells, register, audit summary) and its documentation, ``api.py``;
for the policy in force (notice, explainer, text), the register and the audit log, ``public.py``;
for the proposals open for views and the form a signed-in worker gives theirs with,
``consultation.py``; for worker sign-in (OpenID Connect with PKCE), ``auth.py`` with ``oidc.py``
(the provider's client and ID-token checks) and ``session.py`` (signed cookies, CSRF tokens); for
the worker's own page, export and objection, ``me.py``; for the typed page contexts, the
templates and the navigation framing the generated documents, ``pages.py``; for the typed
dependencies (``CurrentWorker``, ``CurrentVisitor`` and friends), ``deps.py``.
"""

from teamlens.web.app import create_app

__all__ = ["create_app"]

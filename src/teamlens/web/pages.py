"""The worker's own page and the sign-in messages, each rendered from one typed context.

Templates live in ``web/templates``; Jinja2 escapes everything they show, and a field a template
uses but its context lacks is an error (``StrictUndefined``), so the tests that render each page
also check that it receives what it uses. Pages load nothing from elsewhere and run no script
(the app's Content-Security-Policy forbids both); their forms post to this app only.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from teamlens import services
from teamlens.domain import METRICS, Unit

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("teamlens.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class MyPage:
    """The signed-in worker's page.

    ``held`` is everything teamlens holds about them (see ``services.HeldData``); ``csrf_token``
    is what their forms (objection, sign-out) send back; ``just_objected`` shows a confirmation
    right after they objected.
    """

    held: services.HeldData
    csrf_token: str
    just_objected: bool

    @staticmethod
    def unit_of(metric: str) -> str:
        """The stored unit of a metric's values ("minutes" or "count")."""
        known = METRICS.get(metric)
        return "minutes" if known is not None and known.unit is Unit.MINUTES else "count"


@dataclass(frozen=True)
class MessagePage:
    """A one-paragraph page: sign-in refused or not configured, or signed out.

    ``message`` says what happened and ``hint`` what to do; neither ever holds an identity or a
    claim's value. ``link_href``/``link_text`` offer the next step, if there is one.
    """

    title: str
    message: str
    hint: str = ""
    link_href: str = ""
    link_text: str = ""


def render_my_page(ctx: MyPage) -> str:
    """The worker's own page as HTML."""
    return _TEMPLATES.get_template("me.html").render(ctx=ctx)


def render_message(ctx: MessagePage) -> str:
    """A message page as HTML."""
    return _TEMPLATES.get_template("message.html").render(ctx=ctx)


SIGN_IN_OFF = MessagePage(
    title="Worker sign-in is not configured",
    message="This teamlens installation has no identity provider set up, so workers cannot sign in "
    "here to see their own data yet.",
    hint="Ask the DPO or your representative for your access export meanwhile; they can produce it on "
    "your request. Administrators: see docs/worker-sign-in.md.",
)
NOT_SIGNED_IN = MessagePage(
    title="Please sign in",
    message="This page shows your own data, so you need to sign in with your work account first "
    "(or your session ended, or the form was out of date).",
    link_href="/auth/login",
    link_text="Sign in",
)
SIGNED_OUT = MessagePage(
    title="Signed out",
    message="You are signed out of teamlens.",
    link_href="/",
    link_text="Back to the reports",
)

"""The web app's own pages and the frame around the generated documents, each from one typed context.

Templates live in ``web/templates``; Jinja2 escapes everything they show, and a field a template
uses but its context lacks is an error (``StrictUndefined``), so the tests that render each page
also check that it receives what it uses. Pages load nothing from elsewhere and run no script
(the app's Content-Security-Policy forbids both); their forms post to this app only. Every page
carries the same navigation (``Nav``); the documents generated from the policy (report, notice,
explainer, register, consultation page) are served as generated, with the navigation put at the
top of their body by ``framed`` (and, under a proposal, the comment form at the end of its main
part).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import jinja2

from teamlens import services
from teamlens.domain import METRICS, Unit
from teamlens.errors import InternalError
from teamlens.web.deps import Visitor

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


@dataclass(frozen=True)
class Nav:
    """The navigation every page carries; ``current`` is the path of the section being shown."""

    current: str = ""
    links: ClassVar[Sequence[tuple[str, str]]] = (
        ("/", "Reports"),
        ("/policy", "Policy"),
        ("/register", "Register"),
        ("/audit", "Audit log"),
        ("/consultation", "Consultation"),
        ("/me", "Your data"),
    )

    @classmethod
    def section_of(cls, path: str) -> str:
        """The navigation entry a request path belongs to ("" for none, such as ``/auth/…``)."""
        first = "/" + path.strip("/").split("/", 1)[0]
        return first if any(href == first for href, _ in cls.links) else ""


@dataclass(frozen=True)
class PolicyPage:
    """``/policy``: the policy in force (``stored``: its version record, text and parsed policy)."""

    stored: services.StoredPolicy


@dataclass(frozen=True)
class AuditLogPage:
    """``/audit``: one page of the public audit log with the chain's verification (``services.AuditPage``)."""

    page: services.AuditPage


@dataclass(frozen=True)
class ConsultationsPage:
    """``/consultation``: every proposal open for views (``open``), each linked to its own page."""

    open: tuple[services.OpenConsultation, ...]


@dataclass(frozen=True)
class CommentForm:
    """The form under a proposal in consultation (``policy_id``, ``version``).

    ``visitor`` says whether the reader is signed in (the form, with its CSRF token), may sign in
    (a link) or cannot here (sign-in not configured). After a refusal, ``error`` says why and
    ``text``, ``signature`` and ``objection`` give back what they sent; ``recorded`` confirms a
    view just recorded. ``max_length`` is the longest view the form takes and ``anonymous`` how an
    unsigned view is signed.
    """

    policy_id: str
    version: int
    visitor: Visitor
    recorded: bool = False
    error: str = ""
    text: str = ""
    signature: str = ""
    objection: bool = False
    max_length: int = services.WEB_VIEW_MAX
    anonymous: str = services.ANONYMOUS_WORKER


def _render(template: str, ctx: object, current: str) -> str:
    return _TEMPLATES.get_template(template).render(ctx=ctx, nav=Nav(current))


def render_my_page(ctx: MyPage) -> str:
    """The worker's own page as HTML."""
    return _render("me.html", ctx, "/me")


def render_message(ctx: MessagePage, current: str = "") -> str:
    """A message page as HTML."""
    return _render("message.html", ctx, current)


def render_policy_page(ctx: PolicyPage) -> str:
    """The index of the policy in force as HTML."""
    return _render("policy.html", ctx, "/policy")


def render_audit_page(ctx: AuditLogPage) -> str:
    """One page of the audit log as HTML."""
    return _render("audit.html", ctx, "/audit")


def render_consultations(ctx: ConsultationsPage) -> str:
    """The list of proposals open for views as HTML."""
    return _render("consultations.html", ctx, "/consultation")


_BODY = re.compile(r"<body[^>]*>")


def framed(document: str, current: str, form: CommentForm | None = None) -> str:
    """A generated document with the navigation at the top of its body (and ``form`` at the end of main).

    The documents escape everything they show, so the first ``<body>`` and the last ``</main>``
    are the template's own.
    """
    opening = _BODY.search(document)
    closing = document.rfind("</main>")
    if opening is None or closing < opening.end():
        raise InternalError("a generated document has no <body> or </main>: this is a bug in teamlens")
    nav = _TEMPLATES.get_template("_nav.html").render(nav=Nav(current))
    extra = "" if form is None else _TEMPLATES.get_template("_comment_form.html").render(ctx=form)
    return f"{document[: opening.end()]}\n{nav}{document[opening.end() : closing]}{extra}{document[closing:]}"


SIGN_IN_OFF = MessagePage(
    title="Worker sign-in is not configured",
    message="This teamlens installation has no identity provider set up, so workers cannot sign in "
    "here to see their own data yet.",
    hint="Ask the DPO or your representative for your access export meanwhile; they can produce it on "
    "your request. Administrators: see docs/worker-sign-in.md.",
)
NOT_SIGNED_IN = MessagePage(
    title="Please sign in",
    message="Seeing your own data and giving your view on a proposal need you to sign in with your work "
    "account first (or your session ended, or the form was out of date). Nothing was recorded.",
    link_href="/auth/login",
    link_text="Sign in",
)
SIGNED_OUT = MessagePage(
    title="Signed out",
    message="You are signed out of teamlens.",
    link_href="/",
    link_text="Back to the reports",
)
TEAMLENS_OFF = MessagePage(
    title="teamlens is off",
    message="No processing policy has been approved by both the employer and workers' representatives, "
    "so nothing is collected and nothing is released.",
    hint="Proposals open for your views, if any, are under Consultation; the register and the audit log "
    "show what has happened so far.",
)

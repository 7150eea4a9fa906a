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

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

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
    is what their forms (objection, request, sign-out) send back; ``just_objected`` and
    ``just_requested`` confirm what they just did; ``requests`` are the requests they made.
    """

    held: services.HeldData
    csrf_token: str
    just_objected: bool
    requests: tuple[services.RightsRequest, ...] = ()
    just_requested: bool = False

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
        ("/api/docs", "API"),
    )

    @classmethod
    def section_of(cls, path: str) -> str:
        """The navigation entry a request path belongs to ("" for none, such as ``/auth/…``)."""
        first = "/" + path.strip("/").split("/", 1)[0]
        if first in ("/api", "/tokens"):
            return "/api/docs"
        return first if any(href == first for href, _ in cls.links) else ""


@dataclass(frozen=True)
class PolicyPage:
    """``/policy``: the policy in force (``stored``: its version record, text and parsed policy) and
    the parties' registered ``keys``, whose fingerprints anyone can check decisions against.
    """

    stored: services.StoredPolicy
    keys: tuple[services.PartyKey, ...] = ()

    @staticmethod
    def spaced(fingerprint: str) -> str:
        """A fingerprint in groups of four hex digits."""
        return services.keys.spaced(fingerprint)


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


@dataclass(frozen=True)
class RepPage:
    """``/rep``: every policy version with the decisions the representative may sign (``actions_for``),
    the registered keys (``keys``) and key sets waiting for signatures (``waiting``), the audit
    log's head (``head_seq``, ``head_hash``), the forms' ``csrf_token`` and a ``notice`` after a decision.
    """

    versions: tuple[services.PolicyVersionInfo, ...]
    keys: tuple[services.PartyKey, ...]
    waiting: tuple[services.KeySetInfo, ...]
    head_seq: int
    head_hash: str
    csrf_token: str
    notice: str
    #: Whether the policy shown runs under a profile with a works agreement (``de``).
    works_agreement: bool = False

    @classmethod
    def build(cls, ws: services.Workspace, csrf_token: str, done: str) -> RepPage:
        """The page's context, read from the installation."""
        registered = services.keys.registered(ws)
        waiting = tuple(info for info in ws.governance.key_sets() if info.registered_at is None)
        seq, head = ws.governance.audit_head()
        notice = {
            "keyset": "Your passkey signed the key set; it counts once both parties have confirmed it.",
            "policy.approve": "Your approval is signed and recorded.",
            "policy.suspend": "Processing is suspended.",
            "policy.lift": "Your signature lifting the suspension is recorded.",
        }.get(done, "")
        keys = registered.keys if registered else ()
        return cls(
            tuple(services.versions(ws)),
            keys,
            waiting,
            seq,
            head,
            csrf_token,
            notice,
            services.works_agreement.available(ws),
        )

    @staticmethod
    def actions_for(info: services.PolicyVersionInfo) -> tuple[tuple[str, str], ...]:
        """The decisions the representative may sign on a version now, as (action, button label)."""
        state = info.state.value
        if state in ("draft", "consultation", "proposed", "approved") and any(
            p.value == "representative" for p in info.missing_parties
        ):
            return (("policy.approve", "Approve with my passkey"),)
        if state == "active":
            return (("policy.suspend", "Suspend with my passkey"),)
        if state == "suspended":
            return (("policy.lift", "Sign the lifting of the suspension"),)
        return ()


@dataclass(frozen=True)
class ConsolePage:
    """A privileged role's table page: ``title``, ``notes`` above the table, its ``headings`` and
    ``rows`` (text only), what to say when it is ``empty``, and ``links`` (href, text) below it.
    """

    title: str
    notes: tuple[str, ...]
    table_id: str
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str
    links: tuple[tuple[str, str], ...] = ()

    @classmethod
    def audit(cls, ws: services.Workspace) -> ConsolePage:
        """``/rep/audit``: the newest 500 entries with every detail (signatures summarised)."""
        rows = []
        for entry in services.audit_entries(ws, limit=500):
            details = {k: v for k, v in entry.details.items() if k != "signed"}
            signed = entry.details.get("signed")
            if isinstance(signed, dict):
                key = (
                    signed.get("signature", {}).get("key", "")
                    if isinstance(signed.get("signature"), dict)
                    else ""
                )
                details["signed_by_key"] = str(key)[:16] + "…" if key else "several keys"
            rows.append(
                (
                    str(entry.seq),
                    f"{entry.at:%Y-%m-%d %H:%M:%S}",
                    entry.actor,
                    entry.action,
                    json.dumps(details),
                )
            )
        verdict = services.verify_audit(ws)
        note = "The chain and every signature verify." if verdict.ok else f"NOT verified: {verdict.problem}"
        return cls(
            "The full audit log",
            (note,),
            "audit-full",
            ("#", "when (UTC)", "actor", "action", "details"),
            tuple(rows),
            "The log is empty.",
        )

    @classmethod
    def requests(cls, ws: services.Workspace) -> ConsolePage:
        """``/dpo``: the rights requests, never naming who they are about."""
        rows = tuple(
            (r.request_id, r.kind, r.origin, r.state, f"{r.created_at:%Y-%m-%d}")
            for r in services.requests(ws)
        )
        notes = (
            "A worker's own request (made at /me) is fulfilled with your key: "
            "`teamlens rights fulfil ID --key YOUR-KEY`. An off-line request also needs the representative's "
            "countersignature.",
        )
        return cls(
            "Rights requests",
            notes,
            "requests",
            ("request", "kind", "from", "state", "made"),
            rows,
            "No requests.",
            (("/dpo/dpia", "The DPIA"),)
            + (
                (
                    ("/dpo/works-agreement", "The draft works agreement (Betriebsvereinbarung)"),
                    ("/dpo/works-agreement.pdf", "The draft works agreement as PDF"),
                )
                if services.works_agreement.available(ws)
                else ()
            ),
        )

    @classmethod
    def settings(cls, ws: services.Workspace) -> ConsolePage:
        """``/admin``: how the installation is set up; counts and settings only, no data."""
        config = services.sign_in_config(ws)
        mapping = services.role_map(ws)
        registered = services.keys.registered(ws)
        active = services.active(ws)
        sources: dict[str, int] = {}
        for ingestion in ws.governance.ingestions():
            sources[ingestion.source] = sources.get(ingestion.source, 0) + 1
        rows = [
            ("sign-in issuer", config.issuer if config else "not configured"),
            ("web address", config.base_url if config else "not configured"),
            ("roles file sha256", mapping.sha256),
            ("roles file approved by both parties", "yes" if services.mapping_approved(ws) else "NO"),
            ("registered keys", str(len(registered.keys)) if registered else "none"),
            (
                "policy in force",
                f"{active.policy_id} v{active.version}" if active else "none: teamlens is off",
            ),
            ("sources the policy allows", ", ".join(active.policy.sources) if active else "—"),
        ]
        rows += [(f"inputs ingested from {source}", str(count)) for source, count in sorted(sources.items())]
        return cls(
            "Installation settings",
            ("Settings and counts only: no one's data.",),
            "settings",
            ("setting", "value"),
            tuple(rows),
            "",
        )


@dataclass(frozen=True)
class PasskeyPage:
    """A passkey step: ``title`` and ``explanation``; the ``statement`` to be signed (pretty JSON, or
    empty when registering); ``mode`` ("register" or "sign"), the ``action`` URL the answer goes to,
    the session's ``csrf_token``, the WebAuthn ``options_json`` and the ``button``'s label.
    """

    title: str
    explanation: str
    statement: str
    mode: str
    action: str
    csrf_token: str
    options_json: str
    button: str

    @classmethod
    def registering(cls, options: str, token: str) -> PasskeyPage:
        """Make a passkey on this device for the representative."""
        return cls(
            "Register your passkey",
            "Your browser makes a passkey on this device; its private key never "
            "leaves it. Both parties then confirm it before it signs anything.",
            "",
            "register",
            "/rep/passkey",
            token,
            options,
            "Make my passkey",
        )

    @classmethod
    def confirming(cls, options: str, token: str, statement: Mapping[str, object]) -> PasskeyPage:
        """Sign the key set that registers the new passkey."""
        return cls(
            "Confirm the key set",
            "Your new passkey signs the key set below, which lists every party's "
            "keys; the employer and your existing key confirm it too.",
            _pretty(statement),
            "sign",
            "/rep/keyset",
            token,
            options,
            "Sign the key set",
        )

    @classmethod
    def deciding(cls, options: str, token: str, statement: Mapping[str, object]) -> PasskeyPage:
        """Sign a decision (approve, suspend, lift)."""
        return cls(
            "Sign your decision",
            "Your passkey signs exactly this statement: the action, the policy "
            "version and its text's hash, the time and a one-off number.",
            _pretty(statement),
            "sign",
            "/rep/sign/finish",
            token,
            options,
            "Sign with my passkey",
        )

    @classmethod
    def second_factor(cls, options: str, token: str) -> PasskeyPage:
        """Prove the second factor of a sign-in with the representative's passkey."""
        return cls(
            "Confirm it is you",
            "Your passkey proves the second factor of this sign-in: it signs a "
            "one-off statement on this device.",
            "",
            "sign",
            "/auth/passkey",
            token,
            options,
            "Use my passkey",
        )

    @staticmethod
    def script() -> str:
        """The passkey helper script."""
        return resources.files("teamlens.web").joinpath("static/passkey.js").read_text(encoding="utf-8")


def _pretty(statement: Mapping[str, object]) -> str:
    return json.dumps(statement, indent=2, sort_keys=True, ensure_ascii=False)


def render_rep_page(ctx: RepPage) -> str:
    """The representative's console as HTML."""
    return _render("rep.html", ctx, "/rep")


def render_console(ctx: ConsolePage, current: str) -> str:
    """A privileged role's table page as HTML."""
    return _render("console.html", ctx, current)


def render_passkey_page(ctx: PasskeyPage) -> str:
    """A passkey step as HTML."""
    return _render("passkey.html", ctx, "/rep")


def _render(template: str, ctx: object, current: str) -> str:
    return _TEMPLATES.get_template(template).render(ctx=ctx, nav=Nav(current))


def render_page(template: str, ctx: object, current: str) -> str:
    """A page of another web module from its template (under ``web/templates``) and typed context."""
    return _render(template, ctx, current)


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
    message="This page needs you to sign in with your work account first (or your session ended, or "
    "the form was out of date). Nothing was shown or recorded.",
    link_href="/auth/login",
    link_text="Sign in",
)
FORBIDDEN = MessagePage(
    title="Not allowed",
    message="Your role does not include this page; nothing was shown or recorded.",
    hint="Roles come from your organisation's sign-in and the role list both parties approved.",
    link_href="/",
    link_text="Back",
)
SECOND_FACTOR = MessagePage(
    title="Sign in again with a second factor",
    message="This needs a recent sign-in with a second factor (a security key, an authenticator app or a "
    "passkey); nothing was shown or recorded. A representative with a registered passkey can use it "
    "instead: /auth/passkey.",
    link_href="/auth/login?step_up=1",
    link_text="Sign in again",
)
TOO_MANY = MessagePage(
    title="Too many sign-in attempts",
    message="There were too many sign-in attempts from here; please wait a few minutes and try again.",
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


def _schema_type(schema: Mapping[str, object]) -> str:
    """A JSON schema's type as people read it: "string", "list of Cell", "number or null"."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_schema_type(part) for part in schema["anyOf"])  # type: ignore[attr-defined]
    kind = str(schema.get("type", "object"))
    if kind == "array":
        return "list of " + _schema_type(schema.get("items", {}))  # type: ignore[arg-type]
    return kind


@dataclass(frozen=True)
class ApiModel:
    """One JSON object of the API: its name, what it is, and its fields (name, type, description)."""

    name: str
    description: str
    fields: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class ApiOperation:
    """One documented path: method, summary, query parameters, answers and the objects it returns."""

    method: str
    path: str
    summary: str
    parameters: tuple[tuple[str, str], ...]
    answers: tuple[tuple[str, str], ...]
    models: tuple[ApiModel, ...]

    @classmethod
    def of(cls, method: str, path: str, operation: dict[str, Any], schema: dict[str, Any]) -> ApiOperation:
        """The operation ``method path`` of the OpenAPI document ``schema``."""
        components = schema.get("components", {}).get("schemas", {})
        models: list[ApiModel] = []
        pending = [
            _schema_type(answer["content"]["application/json"]["schema"])
            for status, answer in operation["responses"].items()
            if status == "200"
        ]
        while pending:
            name = pending.pop(0)
            if name not in components or any(model.name == name for model in models):
                continue
            fields = []
            for field, spec in components[name].get("properties", {}).items():
                kind = _schema_type(spec)
                fields.append((field, kind, str(spec.get("description", ""))))
                pending += [part for part in re.findall(r"[A-Z]\w+", kind) if part in components]
            models.append(ApiModel(name, str(components[name].get("description", "")), tuple(fields)))
        return cls(
            method.upper(),
            path,
            str(operation.get("description") or operation.get("summary", "")),
            tuple((str(p["name"]), str(p.get("description", ""))) for p in operation.get("parameters", [])),
            tuple(
                (status, str(answer.get("description", "")))
                for status, answer in operation["responses"].items()
            ),
            tuple(models),
        )


@dataclass(frozen=True)
class ApiDocsPage:
    """``/api/docs``: the HTTP API described from the app's OpenAPI document (its operations and
    its security schemes as (name, kind, description))."""

    operations: tuple[ApiOperation, ...]
    schemes: tuple[tuple[str, str, str], ...] = ()

    @staticmethod
    def schemes_of(schemes: Mapping[str, Mapping[str, str]]) -> tuple[tuple[str, str, str], ...]:
        """The OpenAPI ``securitySchemes`` as (name, "http bearer", description) rows."""
        return tuple(
            (
                name,
                " ".join(filter(None, (spec.get("type", ""), spec.get("scheme", "")))),
                spec.get("description", ""),
            )
            for name, spec in schemes.items()
        )


def render_api_docs(ctx: ApiDocsPage) -> str:
    """The API documentation page as HTML."""
    return _render("api_docs.html", ctx, "")

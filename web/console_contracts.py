"""The console's contract pages: the lists of the dashboard, the search page, a contract.

Thin, like :mod:`web.console_pages`: each route parses the form or the query string and calls
the same :class:`signing.envelopes.EnvelopeService` methods as the API (the person acting is
recorded in the evidence instead of an API key). Downloads (documents, the certificate of
evidence, the evidence bundle) are served here, behind the console session: the API's
endpoints take API keys, and the session cookie is scoped to ``/app``. Another tenant's
contract is a 404, as in the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from evidence_chain.clock import utcnow
from evidence_chain.errors import EvidenceError
from evidence_chain.tenants import TenantRef
from people import roles
from signing.envelopes.search import BUCKETS, MAX_QUERY, Filters, bucket
from web import console_base as base
from web.console_base import login_required, me
from web.context import services
from web.envelopes_api import attachment
from web.errors import status_of
from web.params import date_arg, int_arg, text_arg

bp = Blueprint("contracts", __name__, template_folder="templates")
base.install(bp)

PAGE_SIZE = 20
DASHBOARD_ROWS = 5
MAX_PAGE_NUMBER = 10_000
STATUSES = (
    "draft",
    "sent",
    "in_progress",
    "completed",
    "declined",
    "withdrawn",
    "expired",
    "voided",
)


def tenant() -> TenantRef:
    """The tenant of the person logged in, as the envelope service takes it."""
    person = me().person
    return TenantRef(
        id=person.tenant_id, public_id=person.tenant_public_id, name=person.tenant_name
    )


def _who() -> Any:
    from signing.envelopes.views import InitiatorContext, RequestContext

    ctx = base.client()
    return InitiatorContext(
        key_prefix=None,
        request=RequestContext(ip=ctx.ip, user_agent=ctx.user_agent),
        person_id=me().person.public_id,
    )


def status_label(status: str) -> str:
    """An envelope's status in the page's language."""
    names = {
        "draft": _("Draft"),
        "sent": _("Sent"),
        "in_progress": _("In progress"),
        "completed": _("Completed"),
        "declined": _("Declined"),
        "withdrawn": _("Withdrawn"),
        "expired": _("Expired"),
        "voided": _("Voided"),
    }
    return names.get(status, status)


def party_status_label(status: str) -> str:
    """A party's status in the page's language."""
    names = {"pending": _("Not signed yet"), "signed": _("Signed"), "declined": _("Declined")}
    return names.get(status, status)


def bucket_label(name: str) -> str:
    """The heading of a dashboard list."""
    names = {
        "to_sign": _("For you to sign"),
        "waiting": _("Waiting for others"),
        "completed": _("Completed"),
        "drafts": _("Drafts"),
        "expiring": _("Expiring within 7 days"),
    }
    return names.get(name, name)


def event_label(etype: str) -> str:
    """An evidence event of a contract in the page's language."""
    names = {
        "envelope.created": _("Created"),
        "envelope.sent": _("Sent to the parties"),
        "envelope.link_opened": _("Signing link opened"),
        "envelope.code_sent": _("Verification code sent"),
        "envelope.code_accepted": _("Verification code accepted"),
        "envelope.code_rejected": _("Wrong verification code"),
        "envelope.locked": _("Locked after wrong codes"),
        "envelope.document_viewed": _("Document viewed"),
        "envelope.signed": _("Signed"),
        "envelope.in_progress": _("First signature"),
        "envelope.completed": _("Completed"),
        "envelope.declined": _("Declined"),
        "envelope.reminded": _("Reminder sent"),
        "envelope.withdrawn": _("Withdrawn"),
        "envelope.expired": _("Expired"),
        "envelope.voided": _("Voided"),
        "envelope.downloaded": _("Downloaded"),
    }
    return names.get(etype, etype)


def iso_when(value: str | None) -> str:
    """An ISO time of the API's JSON, as the console shows times."""
    if not value:
        return ""
    return base.when(datetime.fromisoformat(value))


def _globals() -> dict[str, Any]:
    return {
        "status_label": status_label,
        "party_status_label": party_status_label,
        "bucket_label": bucket_label,
        "event_label": event_label,
        "iso_when": iso_when,
    }


def dashboard_lists() -> list[dict[str, Any]]:
    """The dashboard's lists: each with its name, the number of contracts and the newest."""
    svc = services().envelopes
    now = utcnow()
    lists = []
    for name in BUCKETS:
        filters, extra = bucket(name, me().person.email, now)
        found = svc.search(tenant(), filters, limit=DASHBOARD_ROWS, total=True, extra=extra)
        lists.append({"name": name, "count": found.total, "items": found.items})
    return lists


# --- the list and its search ----------------------------------------------------------------


def _form() -> dict[str, str]:
    return {k: request.args.get(k, "") for k in ("q", "status", "from", "to", "party", "view")}


@bp.get("/app/contracts")
@login_required
def contracts() -> Response:
    """The organisation's contracts, newest first, searched and filtered, 20 a page."""
    roles.require(me().person.role, "contracts.view")
    form = _form()
    try:
        page = int_arg("page", default=1, minimum=1, maximum=MAX_PAGE_NUMBER) or 1
        status = text_arg("status", maximum=20)
        if status is not None and status not in STATUSES:
            status = "nope"  # Filters refuses it with the status field named
        filters = Filters(
            q=text_arg("q", maximum=MAX_QUERY),
            status=(status,) if status else (),
            created_from=date_arg("from"),
            created_to=date_arg("to", end_of_day=True),
            party=text_arg("party", maximum=MAX_QUERY),
        )
        extra = None
        view = form["view"] or None
        if view is not None:
            view_filters, extra = bucket(view, me().person.email, utcnow())
            if not filters.status:
                filters = Filters(
                    q=filters.q,
                    status=view_filters.status,
                    created_from=filters.created_from,
                    created_to=filters.created_to,
                    party=filters.party,
                )
        found = services().envelopes.search(
            tenant(), filters, page=page, limit=PAGE_SIZE, total=True, extra=extra
        )
    except EvidenceError as exc:
        if status_of(exc) != 400:
            raise
        return base.render(
            "console/contracts.html",
            400,
            form=form,
            statuses=STATUSES,
            items=[],
            total=0,
            page=1,
            pages=1,
            error=_search_error(exc),
        )
    total = found.total or 0
    pages = max(1, -(-total // PAGE_SIZE))
    return base.render(
        "console/contracts.html",
        form=form,
        statuses=STATUSES,
        items=found.items,
        total=total,
        page=page,
        pages=pages,
        page_url=lambda n: _page_url(form, n),
    )


def _page_url(form: dict[str, str], page: int) -> str:
    values: dict[str, Any] = {k: v for k, v in form.items() if v}
    return url_for("contracts.contracts", page=page, **values)


def _search_error(exc: EvidenceError) -> str:
    field = exc.details.get("field")
    if field in ("from", "to"):
        if exc.details.get("reason") == "date_order":
            return _("The first date is after the last.")
        return _("Enter dates as YYYY-MM-DD.")
    if field in ("q", "party"):
        return _("The search text is too long.")
    if field == "status":
        return _("Choose a status from the list.")
    if field == "page":
        return _("No such page.")
    return base.describe(exc)


# --- one contract ---------------------------------------------------------------------------


def _contract(envelope_id: str) -> dict[str, Any]:
    roles.require(me().person.role, "contracts.view")
    return services().envelopes.get(tenant(), envelope_id)


@bp.get("/app/contracts/<envelope_id>")
@login_required
def contract(envelope_id: str) -> Response:
    """A contract: its parties and their steps, its evidence timeline, downloads, actions."""
    env = _contract(envelope_id)
    events = services().ledger.subject_events(
        me().person.tenant_id, f"envelope:{env['id']}", limit=1000
    )
    names = {p["id"]: p["name"] for p in env["parties"]}
    timeline = [
        {
            "type": e.record.get("type", ""),
            "at": e.record.get("occurred_at"),
            "who": _actor_name(e.record.get("actor") or {}, names),
            "leaf_index": e.leaf_index,
            "event_id": e.event_id,
        }
        for e in events
    ]
    return base.render(
        "console/contract.html",
        env=env,
        timeline=timeline,
        can_manage=roles.allowed(me().person.role, "contracts.manage"),
    )


def _actor_name(actor: dict[str, Any], names: dict[str, str]) -> str:
    role = actor.get("role")
    if role == "party":
        return str(actor.get("name") or names.get(str(actor.get("party_id")), ""))
    if role == "initiator":
        if actor.get("person_id"):
            return _("Your organisation (console)")
        return _("Your organisation (API)")
    if role == "system":
        return "Sealtrail"
    return ""


def _act(envelope_id: str, action: str) -> BaseResponse:
    roles.require(me().person.role, "contracts.manage")
    svc = services().envelopes
    reason = request.form.get("reason", "").strip() or None
    try:
        if action == "remind":
            reminded = svc.remind(tenant(), envelope_id, _who(), None)
            message = _("A new link was sent to %(n)s parties.", n=len(reminded))
        elif action == "withdraw":
            svc.withdraw(tenant(), envelope_id, reason, _who())
            message = _("The contract was withdrawn.")
        else:
            svc.void(tenant(), envelope_id, reason, _who())
            message = _("The contract was voided; VOID copies were issued.")
    except EvidenceError as exc:
        if status_of(exc) == 404 or status_of(exc) >= 500:
            raise
        flash(_action_error(exc, action), "error")
        return redirect(url_for("contracts.contract", envelope_id=envelope_id), code=303)
    flash(message, "ok")
    return redirect(url_for("contracts.contract", envelope_id=envelope_id), code=303)


def _action_error(exc: EvidenceError, action: str) -> str:
    status = status_of(exc)
    if status == 429:
        return _("A reminder was sent less than a minute ago. Please wait a moment.")
    if status == 409:
        return _("This contract's status does not allow that now.")
    if action == "void" and exc.details.get("field") == "reason":
        return _("Give the reason for voiding the contract.")
    return base.describe(exc)


@bp.post("/app/contracts/<envelope_id>/remind")
@login_required
def remind(envelope_id: str) -> BaseResponse:
    """Send fresh links to the parties whose turn it is."""
    return _act(envelope_id, "remind")


@bp.post("/app/contracts/<envelope_id>/withdraw")
@login_required
def withdraw(envelope_id: str) -> BaseResponse:
    """Withdraw the contract before it is completed (a reason is optional)."""
    return _act(envelope_id, "withdraw")


@bp.post("/app/contracts/<envelope_id>/void")
@login_required
def void(envelope_id: str) -> BaseResponse:
    """Void a completed contract (a reason is required)."""
    return _act(envelope_id, "void")


# --- downloads ------------------------------------------------------------------------------


@bp.get("/app/contracts/<envelope_id>/documents/<int:n>")
@login_required
def document(envelope_id: str, n: int) -> Response:
    """A document's PDF (``?version=current|original|void``), as the API serves it."""
    roles.require(me().person.role, "contracts.view")
    version = request.args.get("version") or "current"
    name, pdf, sha = services().envelopes.document(tenant(), envelope_id, n, version, _who())
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(name)
    response.headers["X-Sealtrail-Sha256"] = sha
    return response


def _not_yet(exc: EvidenceError, envelope_id: str) -> BaseResponse:
    """Back to the contract with a message when its newest step awaits its checkpoint (the
    log signs one every few seconds); any other error is raised."""
    if exc.details.get("reason") != "not_checkpointed":
        raise exc
    flash(_("The newest step is being sealed into the log. Try again in a few seconds."), "error")
    return redirect(url_for("contracts.contract", envelope_id=envelope_id), code=303)


@bp.get("/app/contracts/<envelope_id>/certificate.pdf")
@login_required
def certificate(envelope_id: str) -> Response | BaseResponse:
    """A new certificate of evidence of the contract, in the page's language."""
    from reports.service import issue_report  # ReportLab and pyHanko load on first use

    env = _contract(envelope_id)
    lang = "en" if base.language() == "en" else "zh"
    try:
        issued = issue_report(
            services(), services().signing, tenant(), f"envelope:{env['id']}", language=lang
        )
    except EvidenceError as exc:
        return _not_yet(exc, envelope_id)
    name = f"certificate-of-evidence-{issued.report.report_id}.pdf"
    return Response(
        issued.pdf,
        mimetype="application/pdf",
        headers={
            "X-Report-Id": issued.report.report_id,
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


@bp.get("/app/contracts/<envelope_id>/bundle.json")
@login_required
def bundle(envelope_id: str) -> Response | BaseResponse:
    """The contract's evidence bundle (JSON), for the offline verifier."""
    from reports.bundle import build_bundle  # imported on first use

    env = _contract(envelope_id)
    try:
        found = build_bundle(services(), tenant(), f"envelope:{env['id']}")
    except EvidenceError as exc:
        return _not_yet(exc, envelope_id)
    response = jsonify(found)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="evidence-bundle-envelope_{env["id"]}.json"'
    )
    return response


def init_app(app: Flask) -> None:
    """Register the contract pages, and their labels for every console template."""
    app.register_blueprint(bp)
    app.context_processor(_globals)

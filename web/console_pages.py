"""The console's pages behind the login: dashboard (its contract lists from
:mod:`web.console_contracts`), members, security, API keys, webhooks.

Thin: each route checks the role (:mod:`people.roles`), parses the form, calls one service
method and renders, or redirects (303) with a message. Secrets shown once (recovery codes, a
webhook's signing secret, a new API key) are rendered in the answer to the POST that made
them, never kept.
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, Flask, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from evidence_chain import tenants
from evidence_chain.errors import EvidenceError
from people import roles
from web import console_base as base
from web import console_contracts
from web.console_base import login_required, me
from web.context import services
from web.errors import status_of
from webhooks.service import ALL, EVENTS

bp = Blueprint("console", __name__, template_folder="templates")
base.install(bp)


def _done(endpoint: str, message: str) -> BaseResponse:
    flash(message, "ok")
    return redirect(url_for(endpoint), code=303)


@bp.get("/app", strict_slashes=False)
@login_required
def dashboard() -> Response:
    """Your contracts by what they wait for (with counts), your organisation, where to go."""
    return base.render("console/dashboard.html", lists=console_contracts.dashboard_lists())


# --- members -----------------------------------------------------------------------------


def _members_page(status: int = 200, **extra: object) -> Response:
    members = services().people.members(me())
    return base.render(
        "console/members.html",
        status,
        members=members,
        roles=roles.ROLES,
        can_grant_owner=roles.allowed(me().person.role, "members.grant_owner"),
        **extra,
    )


@bp.get("/app/members")
@login_required
def members() -> Response:
    """The organisation's people (owners and admins)."""
    roles.require(me().person.role, "members.view")
    return _members_page()


@bp.post("/app/members/invite")
@login_required
def invite() -> BaseResponse:
    """Invite someone by email; the link goes by mail after the invitation is saved."""
    email = request.form.get("email", "")
    try:
        services().people.invite(me(), email, request.form.get("role", "member"), base.client())
    except EvidenceError as exc:
        if status_of(exc) in (403, 404):
            raise
        return _members_page(status_of(exc), error=base.describe(exc), email=email)
    return _done("console.members", _("Invitation sent to %(email)s.", email=email.strip()))


@bp.post("/app/members/<member_id>/resend")
@login_required
def resend(member_id: str) -> BaseResponse:
    """Mail a new invitation link to someone who has not set a password yet."""
    try:
        link = services().people.resend(me(), member_id, base.client())
    except EvidenceError as exc:
        if status_of(exc) in (403, 404):
            raise
        return _members_page(status_of(exc), error=base.describe(exc))
    return _done("console.members", _("Invitation sent to %(email)s.", email=link.person.email))


@bp.post("/app/members/<member_id>/role")
@login_required
def change_role(member_id: str) -> BaseResponse:
    """Give a member another role."""
    try:
        services().people.change_role(me(), member_id, request.form.get("role", ""), base.client())
    except EvidenceError as exc:
        if status_of(exc) in (403, 404):
            raise
        return _members_page(status_of(exc), error=base.describe(exc))
    return _done("console.members", _("The role was changed."))


@bp.post("/app/members/<member_id>/remove")
@login_required
def remove(member_id: str) -> BaseResponse:
    """Remove a member from the organisation."""
    try:
        services().people.remove(me(), member_id, base.client())
    except EvidenceError as exc:
        if status_of(exc) in (403, 404):
            raise
        return _members_page(status_of(exc), error=base.describe(exc))
    return _done("console.members", _("The member was removed."))


# --- security ----------------------------------------------------------------------------


def _qr(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def _security_page(status: int = 200, **extra: object) -> Response:
    logins = services().logins
    who = me()
    setup = None
    if not who.person.totp_enabled and logins.pending_totp(who):
        secret, uri = logins.totp_setup(who)
        setup = {"secret": secret, "qr": _qr(uri)}
    return base.render(
        "console/security.html",
        status,
        sessions=logins.sessions(who),
        setup=setup,
        codes_left=logins.recovery_codes_left(who) if who.person.totp_enabled else 0,
        **extra,
    )


@bp.get("/app/security")
@login_required
def security() -> Response:
    """Second factor, recovery codes and open sessions."""
    return _security_page()


@bp.post("/app/security/totp/start")
@login_required
def totp_start() -> BaseResponse:
    """Make the secret to scan (turned on only once a code from it is confirmed)."""
    services().logins.totp_setup(me())
    return redirect(url_for("console.security", _anchor="totp"), code=303)


@bp.post("/app/security/totp/enable")
@login_required
def totp_enable() -> Response:
    """Confirm a code from the authenticator app; show the recovery codes once."""
    try:
        codes = services().logins.enable_totp(me(), request.form.get("code", ""), base.client())
    except EvidenceError as exc:
        if status_of(exc) != 400:
            raise
        return _security_page(400, error=base.describe(exc))
    base.g.pop("console_who", None)  # the person now has a second factor
    return _security_page(codes=codes, notice=_("Two-step login is on."))


@bp.post("/app/security/totp/disable")
@login_required
def totp_disable() -> BaseResponse:
    """Turn the second factor off (the password confirms it)."""
    try:
        services().logins.disable_totp(me(), request.form.get("password", ""), base.client())
    except EvidenceError as exc:
        if status_of(exc) != 400:
            raise
        return _security_page(400, error=base.describe(exc))
    return _done("console.security", _("Two-step login is off."))


@bp.post("/app/security/recovery-codes")
@login_required
def recovery_codes() -> Response:
    """Replace the recovery codes (the password confirms it); show them once."""
    try:
        codes = services().logins.new_recovery_codes(
            me(), request.form.get("password", ""), base.client()
        )
    except EvidenceError as exc:
        if status_of(exc) != 400:
            raise
        return _security_page(400, error=base.describe(exc))
    return _security_page(codes=codes, notice=_("New recovery codes were made."))


@bp.post("/app/security/sessions/<session_id>/end")
@login_required
def end_session(session_id: str) -> BaseResponse:
    """End one of your sessions."""
    services().logins.revoke_session(me(), session_id)
    return _done("console.security", _("The session was ended."))


@bp.post("/app/security/logout-everywhere")
@login_required
def logout_everywhere() -> BaseResponse:
    """End every session of yours, this one too."""
    services().logins.logout_everywhere(me(), base.client())
    flash(_("You are logged out everywhere."), "ok")
    response = redirect(url_for("console_auth.login"), code=303)
    response.delete_cookie(base.SESSION_COOKIE, path="/app")
    return response


# --- API keys ----------------------------------------------------------------------------


def _keys_page(status: int = 200, **extra: object) -> Response:
    keys = tenants.list_keys(services().engine, me().person.tenant_id)
    return base.render("console/keys.html", status, keys=keys, **extra)


@bp.get("/app/keys")
@login_required
def keys() -> Response:
    """The organisation's API keys: prefix, name, created, last used, revoked."""
    roles.require(me().person.role, "api_keys.manage")
    return _keys_page()


@bp.post("/app/keys")
@login_required
def key_create() -> Response:
    """Issue a key; it is shown once, in this answer."""
    roles.require(me().person.role, "api_keys.manage")
    name = request.form.get("name", "").strip() or None
    try:
        info, key = tenants.issue_key(services().engine, me().person.tenant_id, name)
    except EvidenceError as exc:
        if status_of(exc) not in (400, 422):
            raise
        return _keys_page(status_of(exc), error=base.describe(exc), name=name)
    return _keys_page(created=info, key=key)


@bp.post("/app/keys/<prefix>/revoke")
@login_required
def key_revoke(prefix: str) -> Response | BaseResponse:
    """Revoke a key: from the next request on it is refused. The last active key is kept
    (a platform would lose its access); issue the new key first."""
    roles.require(me().person.role, "api_keys.manage")
    try:
        tenants.revoke_key(services().engine, prefix, tenant_id=me().person.tenant_id)
    except EvidenceError as exc:
        if status_of(exc) != 409:
            raise
        return _keys_page(409, error=base.describe(exc))
    return _done("console.keys", _("The key was revoked: it is refused from now on."))


# --- webhooks ----------------------------------------------------------------------------


def _webhooks_page(status: int = 200, **extra: object) -> Response:
    who = me()
    return base.render(
        "console/webhooks.html",
        status,
        endpoints=services().webhooks.endpoints(who.person.tenant_id),
        events=EVENTS,
        **extra,
    )


@bp.get("/app/webhooks")
@login_required
def webhooks() -> Response:
    """The organisation's webhook endpoints."""
    roles.require(me().person.role, "webhooks.manage")
    return _webhooks_page()


@bp.post("/app/webhooks")
@login_required
def webhook_create() -> Response:
    """Add an endpoint; its signing secret is shown once."""
    roles.require(me().person.role, "webhooks.manage")
    url = request.form.get("url", "").strip()
    chosen = request.form.getlist("events")
    try:
        endpoint, secret = services().webhooks.create_endpoint(
            me().person.tenant_id, url, ALL if "all" in chosen or not chosen else chosen
        )
    except EvidenceError as exc:
        if status_of(exc) not in (400, 422):
            raise
        return _webhooks_page(status_of(exc), error=base.describe(exc), url=url)
    return _webhooks_page(created=endpoint, secret=secret)


@bp.post("/app/webhooks/<endpoint_id>/delete")
@login_required
def webhook_delete(endpoint_id: str) -> BaseResponse:
    """Delete an endpoint."""
    roles.require(me().person.role, "webhooks.manage")
    services().webhooks.delete_endpoint(me().person.tenant_id, endpoint_id)
    return _done("console.webhooks", _("The endpoint was deleted."))


@bp.route("/app/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str) -> Response:
    """Any other address under /app is a page of the console that does not exist (HTML)."""
    raise NotFound()


def init_app(app: Flask) -> None:
    """Register the console's pages."""
    app.register_blueprint(bp)

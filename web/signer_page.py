"""The signer's page: a party opens its link, asks for a code, places its signature and signs.

Server-rendered HTML that works without JavaScript; ``static/signer/signer.js`` only adds
dragging of "anywhere" fields onto a page (and disables the no-script position presets). Thin:
every route parses the form, calls one :class:`signing.envelopes.EnvelopeService` method and
renders or redirects (POST, then 303 to the page).

Security: a CSRF token per session (Flask's signed cookie; the key is loaded from or created
at ``EVIDENCE_HOME/session.key`` when the app has none) is checked on every POST; the cookie is
HttpOnly, SameSite=Lax and Secure over https. The pages send a CSP without inline script,
``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer`` (the link token is in the URL).
Errors are HTML pages with the error's status, never the JSON envelope or a traceback.
"""

from __future__ import annotations

import logging
import secrets
from functools import partial
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from evidence_chain.errors import (
    ConfigurationError,
    EvidenceError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from evidence_chain.private_files import read_secret_file
from signing.render import PRESETS, PageGeometry, box_to_percent, preset_position
from web import context, csrf
from web.console_base import LANG_COOKIE, LANGUAGES
from web.context import services
from web.errors import status_of
from web.params import int_arg

if TYPE_CHECKING:
    from signing.envelopes.service import EnvelopeService, RequestContext, SignerView

# Paths this module adds to the OpenAPI document (web/openapi.py merges them).
OPENAPI_PATHS: dict[str, Any] = {}

log = logging.getLogger(__name__)

bp = Blueprint(
    "signer",
    __name__,
    template_folder="templates",
    static_folder="static/signer",
    static_url_path="/static/signer",
)
CSRF_KEY = "signer_csrf"
MAX_UA = 512
MAX_REASON = 2000
MAX_TEXT = 200
IMAGE_WIDTHS = (480, 800, 1200, 1600)
MAX_IMAGE_WIDTH = 10_000


def titles() -> dict[int, str]:
    """An error page's title by status, in the page's language."""
    return {
        400: _("Please check the form"),
        403: _("This action was refused"),
        404: _("This signing link is not valid"),
        405: _("This action is not available"),
        409: _("Not possible right now"),
        410: _("This signing link is no longer active"),
        413: _("The request is too large"),
        422: _("That did not work"),
        429: _("Please wait a moment"),
        500: _("Something went wrong on our side"),
    }


def hints() -> dict[int, str]:
    """What the signer can do next, by status."""
    return {
        403: _("If your session expired, reload the page and try again."),
        404: _("Check that you opened the whole link from the message you received."),
        410: _("Ask the sender of the document for a new link if you still need to sign."),
        429: _("Wait a little, then try again."),
        500: _("The problem has been logged. Please try again later."),
    }


def kind_name(kind: str) -> str:
    """A field's kind as the signer reads it."""
    names = {
        "signature": _("Signature"),
        "seal": _("Seal"),
        "riding_seal": _("Riding seal"),
        "date": _("Date"),
        "text": _("Text"),
        "checkbox": _("Checkbox"),
        "initials": _("Initials"),
    }
    return names.get(kind, kind.replace("_", " ").capitalize())


def preset_name(preset: str) -> str:
    """A place on the page (the no-script fallback's choices)."""
    names = {
        "bottom-right": _("bottom right"),
        "bottom-left": _("bottom left"),
        "bottom-center": _("bottom centre"),
        "top-right": _("top right"),
        "top-left": _("top left"),
        "center": _("centre"),
    }
    return names.get(preset, preset.replace("-", " "))


def by_code() -> dict[str, tuple[str, str, str]]:
    """Pages that say more than their status: (title, message, hint)."""
    return {
        "link_superseded": (
            _("This signing link was replaced by a newer one"),
            _("A reminder sent you a new link, and only the newest link works"),
            _("Open the link in the most recent message you received about this document."),
        ),
    }


class SignerSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session: SameSite=Lax by default, Secure whenever the request
    itself came over https."""

    def get_cookie_samesite(self, app: Flask) -> str | None:
        """SameSite of the session cookie: the configured value, else Lax."""
        return app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured or when this request is https."""
        configured = bool(app.config.get("SESSION_COOKIE_SECURE"))
        return configured or bool(request and request.is_secure)


def envelope_service() -> EnvelopeService:
    """The app's envelope service."""
    return services().envelopes


def request_context(req: Request) -> RequestContext:
    """Who is asking: client address (as the app's WSGI stack sees it) and user agent."""
    from signing.envelopes.service import RequestContext

    ua = req.headers.get("User-Agent")
    return RequestContext(ip=req.remote_addr, user_agent=ua[:MAX_UA] if ua else None)


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    return csrf.token(CSRF_KEY)


def _style_nonce() -> str:
    nonce = getattr(g, "signer_style_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(16)
        g.signer_style_nonce = nonce
    return str(nonce)


@bp.before_request
def _check_csrf() -> None:
    if not csrf.posted_matches(CSRF_KEY):
        raise ForbiddenError(
            "the form's security token is missing or does not match this session",
            details={"reason": "csrf"},
        )


@bp.after_request
def _security_headers(response: Response) -> Response:
    nonce = getattr(g, "signer_style_nonce", None)
    style = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; "
        f"style-src {style}; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    asked = request.args.get("lang")
    if asked in LANGUAGES:  # the page's language switch: remembered for the next pages
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=365 * 24 * 3600,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


# --- page model --------------------------------------------------------------------------


def _page_model(token: str, view: SignerView) -> dict[str, Any]:
    """Everything the template needs: documents with page geometry and field boxes."""
    svc = envelope_service()
    rend = services().pages
    docs = []
    for doc in view.documents:
        geometry = rend.geometry(doc.sha256, partial(svc.document_pdf, token, doc.n))
        pages = []
        for number, geo in enumerate(geometry, start=1):
            boxes = []
            for field in view.fields if view.party_status == "ready" else ():
                if field.document != doc.n or field.anywhere or field.page != number:
                    continue
                if field.x is None or field.y is None:
                    continue
                left, top, width, height = box_to_percent(geo, field.x, field.y, field.w, field.h)
                boxes.append(
                    {"field": field, "left": left, "top": top, "width": width, "height": height}
                )
            src = url_for(".page_image", token=token, n=doc.n, p=number)
            pages.append(
                {
                    "number": number,
                    "geo": geo,
                    "px_width": 800,
                    "px_height": round(800 * geo.display_height / geo.display_width),
                    "src": f"{src}?w=1000",
                    "srcset": ", ".join(f"{src}?w={w} {w}w" for w in IMAGE_WIDTHS),
                    "boxes": boxes,
                }
            )
        docs.append({"doc": doc, "pages": pages})
    anywhere = [f for f in view.fields if f.anywhere]
    texts = [f for f in view.fields if f.kind == "text"]
    can_sign = view.your_turn and view.party_status == "ready"
    return {
        "token": token,
        "view": view,
        "docs": docs,
        "anywhere": anywhere,
        "texts": texts,
        "fixed": [f for f in view.fields if not f.anywhere],
        "can_sign": can_sign,
        "presets": PRESETS,
        "csrf_token": csrf_token(),
        "style_nonce": _style_nonce(),
    }


def _render_page(token: str, view: SignerView, status: int = 200, **extra: Any) -> Response:
    model = _page_model(token, view)
    model["messages"] = get_flashed_messages(with_categories=True)
    model.update(extra)
    response = current_app.make_response((render_template("signer/page.html", **model), status))
    return response


def _render_error(exc: EvidenceError | HTTPException, status: int) -> Response:
    if isinstance(exc, EvidenceError):
        message = exc.message
        details = exc.details
    else:
        message = exc.description or exc.name
        details = {}
    if status >= 500:
        message = _("An internal error occurred.")
    title, hint = titles().get(status, _("That did not work")), hints().get(status)
    special = by_code().get(exc.code) if isinstance(exc, EvidenceError) else None
    if special is not None:
        title, message, hint = special
    body = render_template(
        "signer/error.html",
        status=status,
        title=title,
        message=message,
        hint=hint,
        details=details,
        style_nonce=_style_nonce(),
    )
    return current_app.make_response((body, status))


def _action_error(exc: EvidenceError) -> Response:
    """After a failed POST, show the page again with what went wrong, under the error's status;
    anything else (unknown or finished link, a CSRF failure) is an error page."""
    token = (request.view_args or {}).get("token")
    again = (
        request.method == "POST"
        and bool(token)
        and status_of(exc) in (400, 403, 409, 422, 429)
        and exc.details.get("reason") != "csrf"
    )
    if again and token:
        try:
            view = envelope_service().signer_view(token)
        except EvidenceError:
            return _render_error(exc, status_of(exc))
        return _render_page(token, view, status_of(exc), error=_describe(exc), form=request.form)
    return _render_error(exc, status_of(exc))


def _describe(exc: EvidenceError) -> str:
    """A sentence for the signer from an error of the service."""
    tries = exc.details.get("tries_left")
    if status_of(exc) == 422 and isinstance(tries, int):
        return _("That code is not right. Tries left: %(n)s.", n=tries)
    return f"{exc.message[:1].upper()}{exc.message[1:]}"


@bp.errorhandler(EvidenceError)
def _evidence_error(exc: EvidenceError) -> Response:
    if status_of(exc) >= 500:
        log.error("%s: %s", exc.code, exc.message)
    return _action_error(exc)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return _render_error(exc, exc.code or 500)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error on the signer page")
    return _render_error(EvidenceError("internal error"), 500)


# --- routes ------------------------------------------------------------------------------


@bp.get("/sign/<token>")
def page(token: str) -> Response:
    """The signer's page; records "link opened" unless it follows one of the page's own forms."""
    svc = envelope_service()
    if session.pop("signer_after_post", None):
        view = svc.signer_view(token)
    else:
        view = svc.open_link(token, request_context(request))
    return _render_page(token, view)


@bp.get("/sign/<token>/documents/<int:n>/pages/<int:p>.png")
def page_image(token: str, n: int, p: int) -> Response:
    """One page of a document as a PNG; page 1 records that the party viewed the document."""
    svc = envelope_service()
    view = svc.signer_view(token)
    doc = next((d for d in view.documents if d.n == n), None)
    if doc is None or not 1 <= p <= doc.pages:
        raise NotFoundError("no such page", details={"document": n, "page": p})
    width = int_arg("w", default=1000, minimum=1, maximum=MAX_IMAGE_WIDTH) or 1000
    if p == 1:
        svc.record_view(token, n, request_context(request))
    etag = f"{doc.sha256[:32]}-{p}-{width}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        data = services().pages.png(doc.sha256, p, width, lambda: svc.document_pdf(token, n))
        response = Response(data, mimetype="image/png")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _done(token: str, message: str, category: str = "ok") -> BaseResponse:
    flash(message, category)
    session["signer_after_post"] = True
    return redirect(url_for(".page", token=token), code=303)


@bp.post("/sign/<token>/code")
def request_code(token: str) -> BaseResponse:
    """Send the party a one-time code."""
    svc = envelope_service()
    svc.request_code(token, request_context(request))
    view = svc.signer_view(token)
    where = view.code_destination or _("your contact address")
    return _done(
        token, _("We sent a 6-digit code to %(where)s. It is valid for 10 minutes.", where=where)
    )


@bp.post("/sign/<token>/verify")
def verify_code(token: str) -> BaseResponse:
    """Check the one-time code the party typed."""
    code = "".join(request.form.get("code", "").split())
    if not code:
        raise ValidationError("enter the 6-digit code you received")
    envelope_service().verify_code(token, code, request_context(request))
    return _done(token, _("Code accepted. You can now sign."))


def _placements(token: str, view: SignerView) -> dict[str, tuple[int, float, float]]:
    """Placements of the party's "anywhere" fields: dragged (x, y) or a no-script preset."""
    form = request.form
    out: dict[str, tuple[int, float, float]] = {}
    for field in view.fields:
        if not field.anywhere:
            continue
        label = field.kind
        # Without script, a hidden (empty) and a <select> page input share the name.
        raw_page = next((v for v in form.getlist(f"place-{field.id}-page") if v), "")
        try:
            page_no = int(raw_page)
        except ValueError:
            raise ValidationError(
                f"drag your {label} onto the page, or choose a position",
                details={"field": field.id},
            ) from None
        doc = next((d for d in view.documents if d.n == field.document), None)
        if doc is None or not 1 <= page_no <= doc.pages:
            raise ValidationError(
                f"page {page_no} does not exist for your {label}",
                details={"field": field.id, "page": page_no},
            )
        raw_x, raw_y = form.get(f"place-{field.id}-x", ""), form.get(f"place-{field.id}-y", "")
        if raw_x and raw_y:
            try:
                out[field.id] = (page_no, float(raw_x), float(raw_y))
            except ValueError:
                raise ValidationError(
                    f"the position of your {label} is not a number", details={"field": field.id}
                ) from None
            continue
        preset = form.get(f"place-{field.id}-preset", "")
        if not preset:
            raise ValidationError(
                f"drag your {label} onto the page, or choose a position",
                details={"field": field.id},
            )
        load = partial(envelope_service().document_pdf, token, doc.n)
        geo: PageGeometry = services().pages.geometry(doc.sha256, load)[page_no - 1]
        x, y = preset_position(geo, preset, field.w, field.h)
        out[field.id] = (page_no, x, y)
    return out


@bp.post("/sign/<token>/sign")
def sign(token: str) -> BaseResponse:
    """Sign with the party's placements, text values and confirmed intent."""
    svc = envelope_service()
    view = svc.signer_view(token)
    if view.party_status == "ready" and not view.code_verified:
        # Say first what the signer must do first (the service refuses it all the same).
        raise ForbiddenError("confirm the one-time code first, then sign")
    intent = request.form.get("intent") == "yes"
    if not intent:
        raise ValidationError(
            "tick the box to confirm that you have read the document and agree to sign it"
        )
    texts = {}
    for field in view.fields:
        if field.kind == "text":
            value = request.form.get(f"text-{field.id}", "").strip()
            if len(value) > MAX_TEXT:
                raise ValidationError(
                    f"{field.label or 'a text field'} is longer than {MAX_TEXT} characters"
                )
            texts[field.id] = value
    placements = _placements(token, view)
    svc.sign(token, request_context(request), placements=placements, texts=texts, intent=intent)
    return _done(token, _("You signed the document. Thank you."))


@bp.post("/sign/<token>/decline")
def decline(token: str) -> BaseResponse:
    """Decline to sign, with a reason, after an explicit confirmation."""
    reason = request.form.get("reason", "").strip()
    if not reason:
        raise ValidationError("tell the sender why you decline to sign")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"the reason is longer than {MAX_REASON} characters")
    if request.form.get("confirm") != "yes":
        raise ValidationError("tick the box to confirm that you decline to sign")
    envelope_service().decline(token, reason, request_context(request))
    return _done(token, _("You declined to sign. The sender has been told."), "info")


@bp.get("/sign/<token>/download")
def download(token: str) -> Response:
    """The completed document (PDF), or all of them (ZIP)."""
    name, data = envelope_service().download(token, request_context(request))
    mimetype = "application/zip" if name.lower().endswith(".zip") else "application/pdf"
    response = Response(data, mimetype=mimetype)
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in name) or "document.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register this module's routes, the session's key and cookie settings."""
    if not app.secret_key:
        # Several hosts behind a load balancer share EVIDENCE_SESSION_KEY; one host keeps its
        # own key file.
        settings = context.settings(app)
        if settings.session_key:
            if len(settings.session_key) < 32:
                raise ConfigurationError("EVIDENCE_SESSION_KEY must be at least 32 characters")
            app.secret_key = settings.session_key.encode()
        elif settings.session_key_path.exists():
            app.secret_key = read_secret_file(settings.session_key_path, "the session key")
        # Otherwise the instance is not initialised yet: `flask --app app init` builds this app
        # before it makes the key, and a serving process refuses to start without it
        # (runtime.services.build_services).
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = SignerSessionInterface()
    app.register_blueprint(bp)
    app.add_template_global(kind_name, "kind_name")
    app.add_template_global(preset_name, "preset_name")

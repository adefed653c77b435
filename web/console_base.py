"""What every page of the console shares: language, sessions, CSRF, headers, errors.

* **Language.** Flask-Babel, catalogs in ``web/translations`` (``zh_CN`` and ``en``). The
  language is the one chosen with the switch (remembered in the ``st_lang`` cookie for a
  year), else the browser's ``Accept-Language``, else Chinese.
* **Sessions.** Server-side (:mod:`people.logins`): the ``st_console`` cookie holds a random
  id, HttpOnly, SameSite=Lax, path ``/app``, Secure over https, whenever
  ``EVIDENCE_PUBLIC_URL`` is https, or when ``SESSION_COOKIE_SECURE`` is set. The second
  step of a login uses ``st_login`` likewise.
* **CSRF.** A small synchronizer token, not Flask-WTF: the console's forms are plain HTML
  forms, so a token kept in Flask's signed session (the signer page's proven mechanism; key
  from ``EVIDENCE_HOME/session.key``) and compared in constant time on every POST is all that
  is needed, without a form library. It is renewed at every login. A missing or wrong token
  is a 400 page.
* **Headers.** The signer page's strict CSP (no inline script, styles only by nonce), no
  framing, no referrer, no caching of pages.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from babel.support import NullTranslations, Translations
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import Babel, Domain, format_datetime, get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from evidence_chain.errors import EvidenceError, ValidationError
from people import roles
from people.records import Authenticated, ClientContext
from web import context, csrf
from web.context import services
from web.errors import status_of

log = logging.getLogger(__name__)

LANGUAGES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
LANG_COOKIE = "st_lang"
SESSION_COOKIE = "st_console"
LOGIN_COOKIE = "st_login"
CSRF_KEY = "console_csrf"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
MAX_UA = 512

F = TypeVar("F", bound=Callable[..., Any])


# --- language ----------------------------------------------------------------------------


def select_locale() -> str:
    """The page's language: ``?lang=`` (the signer page's switch), the switch's cookie, else
    the browser's, else Chinese."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return "en" if best and best.startswith("en") else "zh_CN"


def language() -> str:
    """The page's language as a catalog name: ``zh_CN`` or ``en``."""
    found = get_locale()
    return "en" if found is not None and found.language == "en" else "zh_CN"


class CatalogDomain(Domain):
    """Flask-Babel's domain, finding the catalog by :func:`language`: Babel names the locale
    ``zh_CN`` as ``zh_Hans_CN``, which ``gettext`` would not match to ``zh_CN``."""

    def get_translations(self) -> Any:
        """The compiled catalog of the page's language (loaded once per process)."""
        if not request:
            return NullTranslations()
        name = language()
        found = self.cache.get(name)
        if found is None:
            found = Translations.load(str(TRANSLATIONS), [name])
            self.cache[name] = found
        return found


def lang_attr() -> str:
    """The ``lang`` attribute of the page's language (BCP 47)."""
    return "zh-CN" if language() == "zh_CN" else "en"


def when(moment: datetime | None) -> str:
    """A time for the page, in the page's language (UTC)."""
    if moment is None:
        return ""
    return format_datetime(moment, "medium") + " UTC"


# --- request helpers ---------------------------------------------------------------------


def client() -> ClientContext:
    """Where the request came from, as the evidence log records it."""
    ua = request.headers.get("User-Agent")
    return ClientContext(ip=request.remote_addr, user_agent=ua[:MAX_UA] if ua else None)


def csrf_token() -> str:
    """This browser's CSRF token, made on first use."""
    return csrf.token(CSRF_KEY)


def renew_csrf() -> None:
    """A new CSRF token (after a login)."""
    csrf.renew(CSRF_KEY)


def style_nonce() -> str:
    """The nonce of this page's style elements (the CSP allows no other inline style)."""
    nonce = getattr(g, "console_style_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(16)
        g.console_style_nonce = nonce
    return str(nonce)


def cookie_secure() -> bool:
    """Whether cookies are Secure: configured, the service's public URL is https (behind a
    proxy that ends TLS), or this request came over https."""
    public = context.settings().public_base_url
    return (
        bool(current_app.config.get("SESSION_COOKIE_SECURE"))
        or public.startswith("https://")
        or request.is_secure
    )


def set_cookie(response: BaseResponse, name: str, value: str, path: str = "/app") -> None:
    """Set a console cookie: HttpOnly, SameSite=Lax, Secure over https."""
    response.set_cookie(
        name, value, path=path, httponly=True, samesite="Lax", secure=cookie_secure()
    )


def current() -> Authenticated | None:
    """The person of this request (a live, full session), looked up once per request."""
    if "console_who" not in g:
        g.console_who = services().logins.authenticate(request.cookies.get(SESSION_COOKIE))
    found = g.console_who
    return found if isinstance(found, Authenticated) else None


def me() -> Authenticated:
    """The person of a page that requires a login (see :func:`login_required`)."""
    who = current()
    assert who is not None
    return who


def login_required(view: F) -> F:
    """Send a visitor without a live session to the login page (and back afterwards)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current() is None:
            return redirect(url_for("console_auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path of the console, else the dashboard (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/app"):
            return target
    return url_for("console.dashboard")


def language_next(target: str | None) -> str:
    """Where the language switch goes back to: a console page or the public verify page
    (a local path only: no open redirect), else the dashboard."""
    if target:
        parts = urlsplit(target)
        local = not parts.scheme and not parts.netloc and not target.startswith("//")
        if local and (target.startswith("/app") or parts.path == "/verify"):
            return target
    return url_for("console.dashboard")


def render(template: str, status: int = 200, **model: Any) -> Response:
    """Render a console page with what every page needs."""
    body = render_template(template, **model)
    return current_app.make_response((body, status))


# --- messages of errors ------------------------------------------------------------------


def describe(exc: EvidenceError) -> str:
    """A sentence, in the page's language, for an error of a service."""
    reason = exc.details.get("reason")
    field = exc.details.get("field")
    if reason == "locked":
        until = str(exc.details.get("unlock_at", ""))
        try:
            moment = datetime.fromisoformat(until)
            shown = when(moment)
        except ValueError:
            shown = until
        if exc.details.get("scope") == "address":
            return _(
                "Too many failed logins from your network. You can try again after %(time)s.",
                time=shown,
            )
        return _("Too many failed logins: this account is locked until %(time)s.", time=shown)
    messages = {
        "credentials": _("Wrong email or password."),
        "code": _("That code is not right."),
        "session": _("The time for the second step ran out. Please log in again."),
        "link": _("This link is no longer valid. Ask for a new one."),
        "password_short": _(
            "A password has at least %(min)s characters.", min=exc.details.get("min", 10)
        ),
        "password_long": _(
            "A password has at most %(max)s characters.", max=exc.details.get("max", 256)
        ),
        "password_email": _("The password must not be your email address."),
        "password_mismatch": _("The two passwords are not the same."),
        "password": _("The password is not right."),
        "email": _("Enter a valid email address."),
        "exists": _("This email address already has an account."),
        "last_owner": _("An organisation keeps at least one owner."),
        "self": _("You cannot change your own role or remove yourself."),
        "role": _("Your role does not allow this."),
        "csrf": _("The form expired. Reload the page and try again."),
        "active": _("This member has already set a password."),
    }
    if isinstance(reason, str) and reason in messages:
        return messages[reason]
    if field == "url":
        return _("Enter a public http or https address.")
    if field == "events":
        return _("Choose at least one event.")
    if field == "role":
        return _("Choose a role.")
    if status_of(exc) == 404:
        return _("Not found.")
    return _("That did not work. Please check the form and try again.")


def role_label(role: str) -> str:
    """The name of a role in the page's language."""
    names = {"owner": _("Owner"), "admin": _("Administrator"), "member": _("Member")}
    return names.get(role, role)


def status_title(status: int) -> str:
    """The heading of an error page."""
    titles = {
        400: _("Please check the form"),
        403: _("This action was refused"),
        404: _("Page not found"),
        405: _("This action is not available"),
        410: _("This link is no longer valid"),
        429: _("Please wait a moment"),
    }
    return titles.get(status, _("Something went wrong on our side"))


def error_page(status: int, message: str) -> Response:
    """An error page of the console."""
    return render(
        "console/error.html",
        status,
        status_code=status,
        message=message,
        title=status_title(status),
    )


# --- hooks -------------------------------------------------------------------------------


def check_csrf() -> None:
    """Refuse (400) a POST whose form has no token or another browser's."""
    if not csrf.posted_matches(CSRF_KEY):
        raise ValidationError(
            "the form's security token is missing or does not match", details={"reason": "csrf"}
        )


def security_headers(response: Response) -> Response:
    """The signer page's strict CSP and the other protective headers."""
    nonce = getattr(g, "console_style_nonce", None)
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
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def _evidence_error(exc: EvidenceError) -> Response:
    status = status_of(exc)
    if status >= 500:
        log.error("%s: %s", exc.code, exc.message)
        return error_page(status, _("The problem has been logged. Please try again later."))
    return error_page(status, describe(exc))


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    return error_page(status, status_title(status))


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error in the console")
    return error_page(500, _("The problem has been logged. Please try again later."))


def install(bp: Blueprint) -> None:
    """Attach the console's hooks and error pages to a blueprint of it."""
    bp.before_request(check_csrf)
    bp.after_request(security_headers)
    bp.register_error_handler(EvidenceError, _evidence_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected)


def _template_globals() -> dict[str, Any]:
    who = (
        current()
        if request and request.blueprint in ("console", "console_auth", "contracts")
        else None
    )
    return {
        "csrf_token": csrf_token,
        "style_nonce": style_nonce,
        "lang_attr": lang_attr,
        "when": when,
        "role_label": role_label,
        "who": who,
        "allowed": lambda action: who is not None and roles.allowed(who.person.role, action),
        "languages": LANGUAGE_NAMES,
        "current_language": language,
    }


def init_babel(app: Flask) -> None:
    """Flask-Babel with the console's catalogs and language choice."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    babel = Babel(app, locale_selector=select_locale)
    babel.domain_instance = CatalogDomain()
    app.context_processor(_template_globals)

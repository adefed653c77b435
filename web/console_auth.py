"""The console's doors: log in (and the second step), set a password from a link, log out,
switch language; ``/`` and ``/login`` lead to the console. Thin: parse the form, call
:mod:`people`, render or redirect (303 after a POST)."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from evidence_chain.errors import EvidenceError, ValidationError
from web import console_base as base
from web.context import services
from web.errors import status_of

bp = Blueprint(
    "console_auth",
    __name__,
    template_folder="templates",
    static_folder="static/console",
    static_url_path="/app/static",
)
base.install(bp)


@bp.get("/")
def root() -> BaseResponse:
    """The service's home is the console."""
    return redirect(url_for("console.dashboard"))


@bp.get("/login")
def short_login() -> BaseResponse:
    """The usual address of a login page."""
    return redirect(url_for("console_auth.login"))


@bp.get("/app/lang/<code>")
def language(code: str) -> BaseResponse:
    """Switch the language of the console and the verify page (remembered for a year) and
    go back."""
    response = redirect(base.language_next(request.args.get("next")), code=303)
    if code in base.LANGUAGES:
        response.set_cookie(
            base.LANG_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=base.cookie_secure(),
        )
    return response


@bp.route("/app/login", methods=["GET", "POST"])
def login() -> BaseResponse:
    """Email and password; then the second step if the person has one."""
    target = base.safe_next(request.values.get("next"))
    if request.method == "GET":
        if base.current() is not None:
            return redirect(target)
        return base.render("console/login.html", next=target)
    email = request.form.get("email", "")
    try:
        result = services().logins.login(email, request.form.get("password", ""), base.client())
    except EvidenceError as exc:
        return base.render(
            "console/login.html",
            status_of(exc),
            next=target,
            email=email,
            error=base.describe(exc),
        )
    base.renew_csrf()
    if result.stage == "totp":
        response = redirect(url_for("console_auth.second_step", next=target), code=303)
        base.set_cookie(response, base.LOGIN_COOKIE, result.cookie, path="/app/login")
        return response
    response = redirect(target, code=303)
    base.set_cookie(response, base.SESSION_COOKIE, result.cookie)
    return response


@bp.route("/app/login/code", methods=["GET", "POST"])
def second_step() -> BaseResponse:
    """The code of the authenticator app (or a recovery code)."""
    target = base.safe_next(request.values.get("next"))
    pending = request.cookies.get(base.LOGIN_COOKIE)
    if not pending:
        return redirect(url_for("console_auth.login", next=target))
    if request.method == "GET":
        return base.render("console/login_code.html", next=target)
    try:
        result = services().logins.second_factor(
            pending, request.form.get("code", ""), base.client()
        )
    except EvidenceError as exc:
        if exc.details.get("reason") in ("session", "locked"):
            page = base.render(
                "console/login.html", status_of(exc), next=target, error=base.describe(exc)
            )
            page.delete_cookie(base.LOGIN_COOKIE, path="/app/login")
            return page
        return base.render(
            "console/login_code.html", status_of(exc), next=target, error=base.describe(exc)
        )
    base.renew_csrf()
    response = redirect(target, code=303)
    response.delete_cookie(base.LOGIN_COOKIE, path="/app/login")
    base.set_cookie(response, base.SESSION_COOKIE, result.cookie)
    return response


@bp.route("/app/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> BaseResponse:
    """Choose a password from a one-time link (first time, or a reset by the operator)."""
    people = services().people
    person = people.link_person(token)  # unknown 404, used or expired 410: error pages
    if request.method == "GET":
        return base.render("console/set_password.html", person=person)
    password = request.form.get("password", "")
    try:
        if password != request.form.get("confirm", ""):
            raise ValidationError(
                "the passwords differ", details={"field": "confirm", "reason": "password_mismatch"}
            )
        people.set_password(token, password, base.client())
    except EvidenceError as exc:
        if status_of(exc) in (404, 410):
            raise
        return base.render(
            "console/set_password.html", status_of(exc), person=person, error=base.describe(exc)
        )
    flash(_("Your password is set. Log in with it now."), "ok")
    response = redirect(url_for("console_auth.login"), code=303)
    response.delete_cookie(base.SESSION_COOKIE, path="/app")
    return response


@bp.post("/app/logout")
def logout() -> BaseResponse:
    """End this session."""
    services().logins.logout(request.cookies.get(base.SESSION_COOKIE))
    flash(_("You are logged out."), "ok")
    response = redirect(url_for("console_auth.login"), code=303)
    response.delete_cookie(base.SESSION_COOKIE, path="/app")
    return response


def init_app(app: Flask) -> None:
    """Register the console's doors and its language support."""
    base.init_babel(app)
    app.register_blueprint(bp)

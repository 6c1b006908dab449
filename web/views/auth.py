"""Logging in and out, the logged-in user on `g`, roles, and federation-scoped blueprints.

Every endpoint needs a login except those in PUBLIC_ENDPOINTS. A federation's pages live under
`/f/<fed>/`; a user of another federation gets 404, as if the page did not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from web.db import get_db
from web.models import ROLES, User, utcnow
from web.services import login_sessions, login_throttle

bp = Blueprint("auth", __name__)

# The feed and "My calendar" pages are the one exception: their token is the key
# (web.views.calendar).
PUBLIC_ENDPOINTS = {"auth.login", "static", "feeds.feed", "feeds.mine"}
# a clinician's own forms (web.views.clinician): the token in the URL is the key
PUBLIC_ENDPOINTS |= {
    f"clinician.{name}"
    for name in (
        "email",
        "ask_leave",
        "withdraw_leave",
        "offer",
        "accept",
        "withdraw_offer",
        "availability",
        "reply",
    )
}
API_PREFIX = "/api/"  # the JSON API authenticates each request by its own token
# A hash to check against when the email is unknown, so timing does not tell which emails exist.
_DUMMY_HASH = generate_password_hash("not a password")


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.before_request(_require_login)
    app.before_request(_resolve_federation)


def _load_user() -> None:
    g.user = None
    if "sid" in session:
        g.user = login_sessions.user_of(get_db(), session.get("sid"))
        if g.user is None:
            session.clear()


def _require_login():
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if request.path.startswith(API_PREFIX):  # bearer tokens, checked by web.api.auth
        return None
    if g.user is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def _resolve_federation() -> None:
    slug = g.pop("fed_slug", None)
    g.federation = g.user.federation if g.user is not None else None
    if slug is not None and (g.user is None or g.user.federation.slug != slug):
        abort(404)


def federation_blueprint(name: str, import_name: str, prefix: str = "") -> Blueprint:
    """A blueprint under `/f/<fed>{prefix}` whose url_for fills `fed` in from the request."""
    blueprint = Blueprint(name, import_name, url_prefix=f"/f/<fed>{prefix}")

    @blueprint.url_value_preprocessor
    def _pop_fed(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values is not None and "fed" in values:
            g.fed_slug = values.pop("fed")  # _resolve_federation matches it with the user's

    @blueprint.url_defaults
    def _add_fed(_endpoint: str, values: dict[str, Any]) -> None:
        if "fed" not in values and g.get("federation") is not None:
            values["fed"] = g.federation.slug

    return blueprint


def role_required(role: str) -> Callable:
    if role not in ROLES:
        raise ValueError(role)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.user is None or not g.user.may(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator


# ---- the pages ------------------------------------------------------------------------


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "GET" and g.user is not None:
        return redirect(url_for("home.dashboard", fed=g.user.federation.slug))
    error = None
    status = 200
    email = ""
    retry_after = 0
    if request.method == "POST":
        email = request.form.get("email", "").strip().casefold()
        password = request.form.get("password", "")
        ip = request.remote_addr or "-"
        db = get_db()
        retry_after = login_throttle.wait_seconds(db, email, ip)
        if retry_after:
            error = (
                "Too many failed attempts. Wait "
                + (
                    f"{retry_after} seconds"
                    if retry_after < 120
                    else f"{retry_after // 60} minutes"
                )
                + ", then try again."
            )
            status = 429
        else:
            user = authenticate(email, password)
            login_throttle.record(db, email, ip, user is not None)
            if user is not None:
                session.clear()
                session["sid"] = login_sessions.open_session(db, user)
                user.last_login_at = utcnow()
                db.commit()
                return redirect(
                    _safe_next(request.args.get("next"))
                    or url_for("home.dashboard", fed=user.federation.slug)
                )
            error = "Email or password is wrong."
            status = 401
    response = make_response(render_template("auth/login.html", error=error, email=email), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/logout")
def logout():
    login_sessions.close_session(get_db(), session.get("sid"))
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
def index():
    return redirect(url_for("home.dashboard", fed=g.user.federation.slug))


def authenticate(email: str, password: str) -> User | None:
    user = get_db().scalar(select(User).where(User.email == email))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _safe_next(target: str | None) -> str | None:
    """`target` when it is a path of this site, else None.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so "/", tab,
    "/evil.example" would take the user to another site: any control character, whitespace or
    backslash refuses the target, and what is left must have neither a scheme nor a host and
    start with a single "/"."""
    if not target or any(c.isspace() or not c.isprintable() or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target

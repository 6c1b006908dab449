"""Logging in and out, the logged-in user on `g`, roles, and federation-scoped blueprints.

Every endpoint needs a login except those in PUBLIC_ENDPOINTS. A federation's pages live under
`/f/<fed>/`; a user of another federation gets 404, as if the page did not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from web.db import get_db
from web.models import ROLES, LoginAttempt, User, utcnow

bp = Blueprint("auth", __name__)

# The feed and "My calendar" pages are the one exception: their token is the key
# (web.views.calendar).
PUBLIC_ENDPOINTS = {"auth.login", "static", "feeds.feed", "feeds.mine"}
API_PREFIX = "/api/"  # the JSON API authenticates each request by its own token
# A hash to check against when the email is unknown, so timing does not tell which emails exist.
_DUMMY_HASH = generate_password_hash("not a password")


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.before_request(_require_login)
    app.before_request(_resolve_federation)


def _load_user() -> None:
    user_id = session.get("user_id")
    g.user = None
    if user_id is not None:
        user = get_db().get(User, user_id)
        if user is not None and user.active and session.get("auth") == _auth_stamp(user):
            g.user = user


def _auth_stamp(user: User) -> str:
    """Changes with the password, so a password reset ends the sessions opened before it."""
    return user.password_hash[-16:]


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
    if request.method == "POST":
        email = request.form.get("email", "").strip().casefold()
        password = request.form.get("password", "")
        ip = request.remote_addr or "-"
        if _too_many_failures(email, ip):
            error = "Too many failed attempts. Wait a few minutes, then try again."
            status = 429
        else:
            user = authenticate(email, password)
            _record_attempt(email, ip, user is not None)
            if user is not None:
                session.clear()
                session["user_id"] = user.id
                session["auth"] = _auth_stamp(user)
                user.last_login_at = utcnow()
                get_db().commit()
                return redirect(
                    _safe_next(request.args.get("next"))
                    or url_for("home.dashboard", fed=user.federation.slug)
                )
            error = "Email or password is wrong."
            status = 401
    return render_template("auth/login.html", error=error, email=email), status


@bp.post("/logout")
def logout():
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


def _too_many_failures(email: str, ip: str) -> bool:
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    db = get_db()

    def failures(column, value) -> int:
        return (
            db.scalar(
                select(func.count(LoginAttempt.id)).where(
                    column == value, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
                )
            )
            or 0
        )

    return (
        failures(LoginAttempt.email, email) >= config["LOGIN_MAX_FAILURES"]
        or failures(LoginAttempt.ip, ip) >= config["LOGIN_MAX_FAILURES_PER_IP"]
    )


def _record_attempt(email: str, ip: str, succeeded: bool) -> None:
    db = get_db()
    db.add(LoginAttempt(email=email[:254], ip=ip[:64], succeeded=succeeded))
    db.commit()


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an absolute URL another site could use."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None

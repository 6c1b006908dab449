"""Settings (managers) and users (admins) of a federation."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from web.db import get_db
from web.models import ROLES, User
from web.services import login_sessions
from web.services.accounts import create_user, hash_password, password_problem
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("admin", __name__)

MIN_TIME_LIMIT, MAX_TIME_LIMIT = 1, 3600


@bp.route("/settings", methods=("GET", "POST"))
@role_required("manager")
def settings():
    errors = []
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        limit = request.form.get("time_limit_seconds", "").strip()
        if not name:
            errors.append("The federation needs a name.")
        if not limit.isdigit() or not MIN_TIME_LIMIT <= int(limit) <= MAX_TIME_LIMIT:
            errors.append(
                f"The time limit is a whole number of seconds from {MIN_TIME_LIMIT} "
                f"to {MAX_TIME_LIMIT}."
            )
        if not errors:
            g.federation.name, g.federation.time_limit_seconds = name, int(limit)
            g.federation.swap_auto_approve = request.form.get("swap_auto_approve") == "yes"
            get_db().commit()
            flash("Settings saved.", "success")
            return redirect(url_for(".settings"))
    return render_template("admin/settings.html", errors=errors), (422 if errors else 200)


@bp.get("/users")
@role_required("admin")
def users():
    rows = (
        get_db()
        .scalars(select(User).where(User.federation_id == g.federation.id).order_by(User.email))
        .all()
    )
    return render_template("admin/users.html", users=rows, roles=ROLES)


@bp.post("/users")
@role_required("admin")
def user_add():
    db = get_db()
    email = request.form.get("email", "").strip().casefold()
    password = request.form.get("password", "")
    role = request.form.get("role", "")
    problem = _check(email, password, role, request.form.get("name", "").strip())
    if not problem and db.scalar(select(User).where(User.email == email)) is not None:
        # The same words whether the address is a user here (in the list on this page) or in
        # another federation, which an admin here must not learn.
        problem = (
            "That email cannot be used for a new user. If they have a login here, change it in "
            "the list; otherwise use another address."
        )
    if problem:
        flash(problem, "error")
        return redirect(url_for(".users"))
    create_user(
        db,
        federation=g.federation,
        email=email,
        password=password,
        role=role,
        name=request.form.get("name", "").strip(),
    )
    db.commit()
    flash(f"Added {email} as {role}.", "success")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>")
@role_required("admin")
def user_update(user_id: int):
    db = get_db()
    user = db.get(User, user_id)
    if user is None or user.federation_id != g.federation.id:
        abort(404)
    role = request.form.get("role", user.role)
    if role not in ROLES:
        abort(400)
    active = request.form.get("active") == "yes"
    if user.id == g.user.id and (role != "admin" or not active):
        flash("You cannot remove your own admin rights.", "error")
        return redirect(url_for(".users"))
    password = request.form.get("password", "")
    if password:
        problem = password_problem(password, email=user.email, name=user.name)
        if problem:
            flash(problem, "error")
            return redirect(url_for(".users"))
        user.password_hash = hash_password(password)
    if password or not active:  # every session of theirs ends, the admin's own one excepted
        login_sessions.end_all(db, user.id, keep=session.get("sid"))
    user.role, user.active = role, active
    db.commit()
    flash(f"Saved {user.email}.", "success")
    return redirect(url_for(".users"))


def _check(email: str, password: str, role: str, name: str) -> str:
    if "@" not in email or len(email) > 254:
        return "Enter an email address."
    problem = password_problem(password, email=email, name=name)
    if problem:
        return problem
    if role not in ROLES:
        return "Choose a role."
    return ""

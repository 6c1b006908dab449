"""Absences: a coordinator or manager marks a clinician away, and a re-run from the published
rota changes as few assignments as it can; the run page then links to the diff."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from web.db import get_db
from web.models import Absence
from web.security import id_of
from web.services.absences import absence_error, record_absence, withdraw_absence
from web.services.current_rota import current_rota, state
from web.services.jobs import RunRefused, running_job, start_run
from web.services.labels import people
from web.services.published import latest_version
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("absence", __name__, "/absence")


@bp.get("/")
def index():
    db = get_db()
    st = state(db, g.federation.id)
    rows = db.scalars(
        select(Absence)
        .where(Absence.federation_id == g.federation.id)
        .order_by(Absence.id.desc())
        .limit(100)
    ).all()
    names = {c.clinician_id: c.name for c in st.problem.clinicians} if st.problem else {}
    return render_template(
        "absence/index.html",
        st=st,
        rows=rows,
        names=names,
        latest=latest_version(db, g.federation.id),
        has_rota=current_rota(db, g.federation.id) is not None,
        running=running_job(db, g.federation.id),
    )


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name, "").strip())
    except ValueError:
        return None


@bp.post("/")
@role_required("coordinator")
def mark():
    """Record the absence and start the re-run in one go: when a run of the period is already
    going, nothing is recorded and the page says so."""
    db = get_db()
    st = state(db, g.federation.id)
    clinician_id = request.form.get("clinician_id", "")
    first, last = _day("first"), _day("last")
    reason = request.form.get("reason", "").strip()[:300]
    problem = st.problem
    error = absence_error(
        problem, clinician_id, first, last, current_rota(db, g.federation.id) is not None
    )
    if error:
        flash(error[1], "error")
        return redirect(url_for(".index"))
    try:
        job_id = record_absence(
            current_app._get_current_object(),
            g.federation.id,
            g.user.id,
            clinician_id,
            first,
            last,
            reason,
            who=people(problem)(clinician_id),
        )
    except RunRefused as refused:
        flash(refused.message + " The absence was not recorded.", "error")
        return redirect(url_for(".index"))
    name = problem.clinician(clinician_id).name
    flash(
        f"{name} is away {first} to {last}; re-running from the published rota (run {job_id}).",
        "info",
    )
    return redirect(url_for("runs.watch", job=job_id))


@bp.post("/rerun")
@role_required("coordinator")
def rerun():
    """Re-run from the published rota without a new absence (e.g. after unpinning a clash)."""
    try:
        job_id = start_run(current_app._get_current_object(), g.federation.id, g.user.id, "absence")
    except RunRefused as refused:
        flash(refused.message, "error")
        return redirect(url_for(".index"))
    return redirect(url_for("runs.watch", job=job_id))


@bp.post("/withdraw")
@role_required("coordinator")
def withdraw():
    db = get_db()
    value = request.form.get("absence", "")
    absence_id = id_of(value)
    row = db.get(Absence, absence_id) if absence_id is not None else None
    if row is None or row.federation_id != g.federation.id:
        abort(404)
    withdraw_absence(db, row, g.user.id)
    flash("Absence withdrawn: the next run may use those days again.", "success")
    return redirect(url_for(".index"))

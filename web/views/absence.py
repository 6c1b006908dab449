"""Absences: a coordinator or manager marks a clinician away, and a re-run from the published
rota changes as few assignments as it can; the run page then links to the diff."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from scheduler.checker import format_day
from web.db import get_db
from web.models import Absence, AuditEvent, Job
from web.security import id_of
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
    error = None
    if problem is None:
        error = "Upload data first."
    elif clinician_id not in problem.clinicians_by_id:
        error = "Choose a clinician."
    elif first is None or last is None:
        error = "Give the first and last day away (YYYY-MM-DD)."
    elif last < first:
        error = f"The absence would end ({last}) before it starts ({first})."
    elif last < problem.period_start or first > problem.period_end:
        error = (
            f"The rota period is {problem.period_start} to {problem.period_end}: "
            "this absence is outside it."
        )
    elif current_rota(db, g.federation.id) is None:
        error = "There is no rota to re-run from yet: optimise first."
    if error:
        flash(error, "error")
        return redirect(url_for(".index"))

    federation_id, user_id = g.federation.id, g.user.id  # start_run has an app context of its own
    away = _away(people(problem)(clinician_id), first, last)

    def record(job_db, job: Job) -> None:
        job_db.add(
            Absence(
                federation_id=federation_id,
                clinician_id=clinician_id,
                first_day=first,
                last_day=last,
                reason=reason,
                created_by_id=user_id,
                job_id=job.id,
            )
        )
        job_db.add(
            AuditEvent(
                federation_id=federation_id,
                user_id=user_id,
                action="absence",
                detail=away + (f" ({reason})" if reason else ""),
            )
        )

    try:
        job_id = start_run(
            current_app._get_current_object(),
            g.federation.id,
            g.user.id,
            "absence",
            detail={
                "clinician_id": clinician_id,
                "first": first.isoformat(),
                "last": last.isoformat(),
            },
            on_created=record,
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


def _away(who: str, first: date, last: date) -> str:
    """'Dan Dee away Thu 4 Mar 2027', 'Dan Dee away Thu 4 Mar 2027 to Sat 6 Mar 2027'."""
    if first == last:
        return f"{who} away {format_day(first)}"
    return f"{who} away {format_day(first)} to {format_day(last)}"


@bp.post("/withdraw")
@role_required("coordinator")
def withdraw():
    db = get_db()
    value = request.form.get("absence", "")
    absence_id = id_of(value)
    row = db.get(Absence, absence_id) if absence_id is not None else None
    if row is None or row.federation_id != g.federation.id:
        abort(404)
    problem = state(db, g.federation.id).problem
    who = people(problem)(row.clinician_id) if problem else row.clinician_id
    db.add(
        AuditEvent(
            federation_id=g.federation.id,
            user_id=g.user.id,
            action="absence",
            detail=f"withdrew: {_away(who, row.first_day, row.last_day)}",
        )
    )
    db.delete(row)
    db.commit()
    flash("Absence withdrawn: the next run may use those days again.", "success")
    return redirect(url_for(".index"))

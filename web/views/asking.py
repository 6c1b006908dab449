"""Availability requests (coordinators): ask every clinician for their availability over a
period, see who replied and when, remind those who have not, and turn the replies into the
next data version through the upload preview."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from scheduler.io.feeds import LONDON
from scheduler.io.load import InputErrors
from web.db import get_db
from web.models import AvailabilityRequest
from web.services import asking, mail
from web.services.problems import current_dataset, loaded
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("asking", __name__, "/requests")


def _today():
    return datetime.now(LONDON).date()


@bp.get("/")
@role_required("coordinator")
def index():
    rows = get_db().scalars(
        select(AvailabilityRequest)
        .where(AvailabilityRequest.federation_id == g.federation.id)
        .order_by(AvailabilityRequest.id.desc())
        .limit(50)
    )
    return render_template("asking/index.html", rows=list(rows), today=_today(), form=request.args)


@bp.post("/")
@role_required("coordinator")
def create():
    db = get_db()
    try:
        first, last, closes, message = asking.parse_request(request.form, _today())
        row, mailed = asking.open_request(db, g.federation, g.user.id, first, last, closes, message)
    except asking.Refused as refused:
        db.rollback()
        flash(refused.message + " Nothing was sent.", "error")
        kept = {k: request.form.get(k, "") for k in ("first", "last", "closes", "message")}
        return redirect(url_for(".index", **kept))
    db.commit()
    mail.dispatch(current_app._get_current_object(), mailed)
    flash(
        f"Request opened; {len(mailed)} clinician(s) e-mailed"
        + ("" if mail.sending() else " (kept in the Outbox: no SMTP server set)")
        + ".",
        "success",
    )
    return redirect(url_for(".show", request_id=row.id))


def _own(request_id: int) -> AvailabilityRequest:
    row = get_db().get(AvailabilityRequest, request_id)
    if row is None or row.federation_id != g.federation.id:
        abort(404)
    return row


@bp.get("/<int:request_id>")
@role_required("coordinator")
def show(request_id: int):
    db = get_db()
    row = _own(request_id)
    dataset = current_dataset(db, g.federation.id)
    problem = loaded(dataset).problem if dataset else None
    answers = {a.clinician_id: a for a in asking.responses(db, row)}
    people = []
    for c in sorted(problem.clinicians if problem else (), key=lambda c: c.name.casefold()):
        a = answers.get(c.clinician_id)
        days = asking.days_of(a)
        people.append(
            {
                "clinician": c,
                "answer": a,
                "counts": {k: sum(1 for v in days.values() if v == k) for k in "APU"},
                "hubs": ", ".join(
                    h.name
                    for h in (problem.hubs if problem else ())
                    if a and h.hub_id in a.preferred_hubs.split(";")
                ),
            }
        )
    return render_template(
        "asking/show.html",
        row=row,
        people=people,
        replied=sum(1 for p in people if p["answer"]),
        open_now=row.status == "open" and _today() <= row.closes_on,
    )


@bp.post("/<int:request_id>/remind")
@role_required("coordinator")
def remind(request_id: int):
    db = get_db()
    row = _own(request_id)
    try:
        mailed = asking.remind(db, g.federation, row, _today())
    except asking.Refused as refused:
        flash(refused.message, "error")
        return redirect(url_for(".show", request_id=row.id))
    db.commit()
    mail.dispatch(current_app._get_current_object(), mailed)
    flash(f"Reminder written to {len(mailed)} clinician(s) who have not replied.", "success")
    return redirect(url_for(".show", request_id=row.id))


@bp.post("/<int:request_id>/draft")
@role_required("coordinator")
def draft(request_id: int):
    db = get_db()
    row = _own(request_id)
    try:
        made = asking.draft_from(db, g.federation.id, row, g.user.id)
    except asking.Refused as refused:
        db.rollback()
        flash(refused.message, "error")
        return redirect(url_for(".show", request_id=row.id))
    except InputErrors as errors:
        db.rollback()
        flash(
            "The replies do not fit the current data: "
            + "; ".join(str(e) for e in errors.errors[:3]),
            "error",
        )
        return redirect(url_for(".show", request_id=row.id))
    db.commit()
    flash("The replies are in a draft: check the changes, then save or discard it.", "info")
    return redirect(url_for("data.draft", draft_id=made.id))

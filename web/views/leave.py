"""Leave requests (coordinators and managers): what clinicians asked for from their private
links, to approve or decline. Approval records the absence; the page then offers the
fewest-changes re-run of the Absences page."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from web.db import get_db
from web.models import LeaveRequest
from web.services import leave, mail
from web.services.current_rota import current_rota, state
from web.services.jobs import running_job
from web.services.published import latest_version
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("leave", __name__, "/leave")


@bp.get("/")
@role_required("coordinator")
def index():
    db = get_db()
    st = state(db, g.federation.id)
    names = {c.clinician_id: c.name for c in st.problem.clinicians} if st.problem else {}
    return render_template(
        "leave/index.html",
        pending=leave.pending(db, g.federation.id),
        decided=leave.decided(db, g.federation.id),
        names=names,
        categories=leave.CATEGORIES,
        latest=latest_version(db, g.federation.id),
        has_rota=current_rota(db, g.federation.id) is not None,
        running=running_job(db, g.federation.id),
        rerun=request.args.get("rerun") == "1",
    )


@bp.post("/<int:request_id>")
@role_required("coordinator")
def decide(request_id: int):
    db = get_db()
    row = db.get(LeaveRequest, request_id)
    if row is None or row.federation_id != g.federation.id:
        abort(404)
    action = request.form.get("action", "")
    if action not in ("approve", "decline"):
        flash("Choose Approve or Decline.", "error")
        return redirect(url_for(".index"))
    try:
        message_id = leave.decide(
            db, g.federation, row, g.user.id, action == "approve", request.form.get("note", "")
        )
    except leave.LeaveRefused as refused:
        flash(refused.message, "warning")
        return redirect(url_for(".index"))
    db.commit()
    if message_id is not None:
        mail.dispatch(current_app._get_current_object(), [message_id])
    days = leave.days_text(row.first_day, row.last_day)
    if action == "approve":
        flash(
            f"Approved: {row.clinician_id} is recorded away {days}. Re-run below to re-plan "
            "any sessions they had then.",
            "success",
        )
        return redirect(url_for(".index", rerun=1))
    flash(f"Declined: {row.clinician_id}'s leave {days}.", "success")
    return redirect(url_for(".index"))

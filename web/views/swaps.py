"""Give-aways (coordinators): sessions clinicians offered from their private links, who
accepted them, and the approval that publishes the hand-over as a new version."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from web.db import get_db
from web.models import SwapOffer
from web.services import mail, swaps
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("swaps", __name__, "/swaps")


@bp.get("/")
@role_required("coordinator")
def index():
    db = get_db()
    state = swaps.published(db, g.federation.id)
    problem = state.problem if state else None

    def name(cid: str | None) -> str:
        person = problem.clinicians_by_id.get(cid or "") if problem else None
        return f"{person.name} ({cid})" if person else (cid or "")

    rows = [
        {
            "offer": o,
            "giver": name(o.clinician_id),
            "taker": name(o.taken_by),
            "session": mail.session_line([problem], o.session_id).text if problem else o.session_id,
            "back": (
                mail.session_line([problem], o.return_session_id).text
                if problem and o.return_session_id
                else o.return_session_id
            ),
        }
        for o in swaps.waiting(db, g.federation.id)
    ]
    return render_template("swaps/index.html", rows=rows, auto=g.federation.swap_auto_approve)


@bp.post("/<int:offer_id>")
@role_required("coordinator")
def decide(offer_id: int):
    db = get_db()
    row = db.get(SwapOffer, offer_id)
    if row is None or row.federation_id != g.federation.id:
        abort(404)
    action = request.form.get("action", "")
    note = request.form.get("note", "").strip()[:500]
    app = current_app._get_current_object()
    try:
        if action == "approve":
            version = swaps.approve(db, g.federation, row, g.user.id, note)
            db.commit()
            mail.after_publish(g.federation, version)
            flash(
                f"Approved: published as version {version.number}; both are told by e-mail and "
                "calendar feeds show it.",
                "success",
            )
            return redirect(url_for("publish.compare", b=version.number))
        if action == "decline":
            mailed = swaps.decline(db, g.federation, row, g.user.id, note)
            db.commit()
            mail.dispatch(app, mailed)
            flash("Declined: the session stays with the clinician who offered it.", "success")
            return redirect(url_for(".index"))
    except swaps.SwapRefused as refused:
        db.rollback()
        flash(refused.message, "error")
        return redirect(url_for(".index"))
    flash("Choose Approve or Decline.", "error")
    return redirect(url_for(".index"))

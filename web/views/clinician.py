"""What a clinician does from their private link (no login: the token is the key, as for
"My calendar" in web.views.calendar): choose whether to get e-mail, ask for leave and
withdraw a request not yet decided, offer a published session to the colleagues who could
take it, and take a colleague's, and reply to availability requests.

Every form here is a POST with the CSRF token, checked against the link's own clinician; an
unknown or revoked token answers 404 and counts towards the address's rate limit.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from scheduler.checker import format_day
from scheduler.io.feeds import LONDON
from web.db import get_db
from web.models import AuditEvent, AvailabilityRequest, Federation, LeaveRequest, SwapOffer
from web.services import asking, leave, mail, swaps
from web.services.problems import current_dataset, loaded
from web.views.calendar import PRIVATE_HEADERS, _link_or_abort

bp = Blueprint("clinician", __name__, url_prefix="/feeds")


def clinician_link(token: str):
    link = _link_or_abort(token)
    if link.kind != "clinician":
        abort(404)
    return link


def _own(db, link, model, row_id: int):
    """The row of `model` with this id when it is the link's clinician's own; else 404."""
    row = db.get(model, row_id)
    if row is None or row.federation_id != link.federation_id or row.clinician_id != link.key:
        abort(404)
    return row


@bp.post("/<token>/email")
def email(token: str):
    link = clinician_link(token)
    choice = request.form.get("email", "")
    if choice not in ("on", "off"):
        flash("Choose “E-mail me” or “No e-mail”.", "error")
        return redirect(url_for("feeds.mine", token=token))
    db = get_db()
    mail.set_opt_out(db, link.federation_id, link.key, choice == "off")
    db.add(
        AuditEvent(
            federation_id=link.federation_id,
            action="clinician e-mail",
            detail=f"{link.key} chose {'no e-mail' if choice == 'off' else 'e-mail'} "
            f"(link …{link.token_hint})",
        )
    )
    db.commit()
    flash(
        "You will get no more e-mail from hubrota."
        if choice == "off"
        else "You will get an e-mail when your sessions change.",
        "success",
    )
    return redirect(url_for("feeds.mine", token=token))


@bp.post("/<token>/leave")
def ask_leave(token: str):
    link = clinician_link(token)
    db = get_db()
    try:
        form = leave.parse_form(request.form, today_in_london())
        leave.ask(db, link.federation_id, link.key, form, link.token_hint)
    except leave.LeaveRefused as refused:
        db.rollback()
        flash(refused.message + " Nothing was sent.", "error")
        return redirect(url_for("feeds.mine", token=token, _anchor="leave"))
    db.commit()
    flash(
        f"Leave asked for {leave.days_text(form.first, form.last)}: your coordinator decides, "
        "and you see the answer here.",
        "success",
    )
    return redirect(url_for("feeds.mine", token=token, _anchor="leave"))


@bp.post("/<token>/leave/<int:request_id>/withdraw")
def withdraw_leave(token: str, request_id: int):
    link = clinician_link(token)
    db = get_db()
    row = _own(db, link, LeaveRequest, request_id)
    try:
        leave.withdraw(db, row, link.token_hint)
    except leave.LeaveRefused as refused:
        db.rollback()
        flash(refused.message, "error")
        return redirect(url_for("feeds.mine", token=token, _anchor="leave"))
    db.commit()
    flash("Request withdrawn.", "success")
    return redirect(url_for("feeds.mine", token=token, _anchor="leave"))


def today_in_london() -> date:
    return datetime.now(LONDON).date()


# ---- give-aways (web.services.swaps) -------------------------------------------------------


def _swap_done(token: str, message: str, category: str):
    flash(message, category)
    return redirect(url_for("feeds.mine", token=token, _anchor="sessions"))


@bp.post("/<token>/offer")
def offer(token: str):
    link = clinician_link(token)
    db = get_db()
    federation = db.get(Federation, link.federation_id)
    try:
        row, mailed = swaps.offer(
            db,
            federation,
            link.key,
            request.form.get("session_id", ""),
            request.form.get("note", ""),
            link.token_hint,
            today_in_london(),
        )
    except swaps.SwapRefused as refused:
        db.rollback()
        return _swap_done(token, refused.message, "error")
    db.commit()
    mail.dispatch(current_app._get_current_object(), mailed)
    return _swap_done(
        token,
        "Offered to the colleagues who could take it. The session stays yours until one "
        "accepts and the coordinator approves.",
        "success",
    )


@bp.post("/<token>/offer/<int:offer_id>/accept")
def accept(token: str, offer_id: int):
    link = clinician_link(token)
    db = get_db()
    federation = db.get(Federation, link.federation_id)
    try:
        row, version, mailed = swaps.accept(
            db,
            federation,
            offer_id,
            link.key,
            link.token_hint,
            request.form.get("in_return", ""),
        )
    except swaps.SwapRefused as refused:
        db.rollback()
        return _swap_done(token, refused.message, "error")
    db.commit()
    app = current_app._get_current_object()
    mail.dispatch(app, mailed)
    if version is not None:
        mail.after_publish(federation, version)
        return _swap_done(token, "The session is yours: it is in the published rota.", "success")
    return _swap_done(
        token,
        "You accepted the session. It becomes yours once the coordinator approves; you get an "
        "e-mail then.",
        "success",
    )


@bp.post("/<token>/offer/<int:offer_id>/withdraw")
def withdraw_offer(token: str, offer_id: int):
    link = clinician_link(token)
    db = get_db()
    row = _own(db, link, SwapOffer, offer_id)
    try:
        swaps.withdraw(db, row, link.token_hint)
    except swaps.SwapRefused as refused:
        db.rollback()
        return _swap_done(token, refused.message, "error")
    db.commit()
    return _swap_done(token, "Offer withdrawn: the session stays yours.", "success")


# ---- availability requests (web.services.asking) -------------------------------------------


def _own_request(link, request_id: int) -> AvailabilityRequest:
    row = get_db().get(AvailabilityRequest, request_id)
    if row is None or row.federation_id != link.federation_id:
        abort(404)
    return row


@bp.get("/<token>/availability/<int:request_id>")
def availability(token: str, request_id: int):
    link = clinician_link(token)
    db = get_db()
    row = _own_request(link, request_id)
    federation = db.get(Federation, link.federation_id)
    dataset = current_dataset(db, link.federation_id)
    problem = loaded(dataset).problem if dataset else None
    days = asking.session_days(problem, row) if problem else []
    answer = asking.response_of(db, row, link.key)
    today = today_in_london()
    html = render_template(
        "clinician/availability.html",
        token=token,
        owner=federation,
        row=row,
        months=asking.months(days),
        session_days=set(days),
        marked=asking.days_of(answer),
        answer=answer,
        hubs=problem.hubs if problem else (),
        chosen_hubs=set((answer.preferred_hubs if answer else "").split(";")) - {""},
        closed=row.status != "open" or today > row.closes_on,
    )
    return make_response(html, 200, PRIVATE_HEADERS)


@bp.post("/<token>/availability/<int:request_id>")
def reply(token: str, request_id: int):
    link = clinician_link(token)
    db = get_db()
    row = _own_request(link, request_id)
    try:
        asking.reply(db, row, link.key, request.form, today_in_london(), link.token_hint)
    except asking.Refused as refused:
        db.rollback()
        flash(refused.message, "error")
        return redirect(url_for("clinician.availability", token=token, request_id=row.id))
    db.commit()
    flash(
        f"Saved. You can change it until {format_day(row.closes_on)}.",
        "success",
    )
    return redirect(url_for("feeds.mine", token=token, _anchor="asked"))

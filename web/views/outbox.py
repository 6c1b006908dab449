"""The Outbox (admins): every e-mail hubrota wrote, with its outcome — held (no SMTP server
set), queued, sent, or failed with the last error — and a button to try a failed one again.
Also the coordinators' "e-mail every clinician their link" action."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from web.db import get_db
from web.models import MailMessage
from web.services import mail
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("outbox", __name__, "/outbox")
PAGE = 100


@bp.get("/")
@role_required("admin")
def index():
    db = get_db()
    status = request.args.get("status", "")
    query = select(MailMessage).where(MailMessage.federation_id == g.federation.id)
    if status:
        query = query.where(MailMessage.status == status)
    messages = db.scalars(query.order_by(MailMessage.id.desc()).limit(PAGE)).all()
    counts = dict(
        db.execute(
            select(MailMessage.status, func.count(MailMessage.id))
            .where(MailMessage.federation_id == g.federation.id)
            .group_by(MailMessage.status)
        ).all()
    )
    return render_template(
        "outbox/index.html",
        messages=messages,
        counts=counts,
        status=status,
        sending=mail.sending(),
        page=PAGE,
    )


def _own_message(message_id: int) -> MailMessage:
    message = get_db().get(MailMessage, message_id)
    if message is None or message.federation_id != g.federation.id:
        abort(404)
    return message


@bp.get("/<int:message_id>")
@role_required("admin")
def message(message_id: int):
    return render_template("outbox/message.html", m=_own_message(message_id))


@bp.post("/<int:message_id>/retry")
@role_required("admin")
def retry(message_id: int):
    db = get_db()
    message = _own_message(message_id)
    if mail.retry(db, message):
        db.commit()
        mail.dispatch(current_app_object(), [message.id])
        flash(f"Message to {message.to_addr} queued again.", "success")
    else:
        flash(
            "Only a failed message can be tried again, and only with HUBROTA_SMTP_URL set.",
            "warning",
        )
    return redirect(url_for(".message", message_id=message.id))


@bp.post("/links")
@role_required("coordinator")
def email_links():
    """Make a link for each clinician who has none and e-mail it to them."""
    db = get_db()
    made, mailed, without = mail.email_links(db, g.federation, g.user.id)
    db.commit()
    mail.dispatch(current_app_object(), mailed)
    where = "queued" if mail.sending() else "kept in the Outbox (no SMTP server set)"
    left = f"; {without} without an address or who chose no e-mail" if without else ""
    flash(f"{made} new link(s) made; {len(mailed)} e-mail(s) {where}{left}.", "success")
    return redirect(request.form.get("next") or url_for("calendar.index"))


def current_app_object():
    return current_app._get_current_object()  # type: ignore[attr-defined]

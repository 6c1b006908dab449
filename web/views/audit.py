"""The audit log: uploads, pins and other hand edits, runs, absences and publishes, by whom
and when, in one table (`audit_event`) and on one page for managers.

Runs, absences, publishes and hand edits write their own lines. Uploads are noticed when a
dataset gets its version number (the data page saves it), by a before-flush hook on the app's
sessions, so every way of saving data is logged.
"""

from __future__ import annotations

from flask import Flask, g, render_template, request
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session as DbSession

from web.db import EXTENSION as DB_EXTENSION
from web.db import get_db
from web.models import AuditEvent, Dataset
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("audit", __name__, "/audit")
ACTIONS = ("upload", "pin", "unpin", "remove", "swap", "run", "cancel", "absence", "publish")


def init_app(app: Flask) -> None:
    event.listen(app.extensions[DB_EXTENSION], "before_flush", _log_uploads)


def _log_uploads(session: DbSession, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Dataset) or obj.version is None:
            continue
        if obj not in session.new and not inspect(obj).attrs.version.history.has_changes():
            continue
        session.add(
            AuditEvent(
                federation_id=obj.federation_id,
                user_id=obj.created_by_id,
                action="upload",
                detail=f"data version {obj.version} saved" + (f" ({obj.note})" if obj.note else ""),
            )
        )


@bp.get("/")
@role_required("manager")
def index():
    action = request.args.get("action", "")
    query = select(AuditEvent).where(AuditEvent.federation_id == g.federation.id)
    if action in ACTIONS:
        query = query.where(AuditEvent.action == action)
    events = get_db().scalars(query.order_by(AuditEvent.id.desc()).limit(300)).all()
    return render_template("audit/index.html", events=events, action=action, actions=ACTIONS)

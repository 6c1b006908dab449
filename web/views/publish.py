"""Publishing: a manager turns a rota into an immutable numbered version (who, when, why),
after a diff page shows what changes against the version published before; versions can be
compared. The calendar feeds and absence re-runs start from the latest published version.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from scheduler.checker import describe_session, roles_or
from scheduler.diff import RotaDiff, rota_diff
from scheduler.domain import Problem, Rota
from web.db import get_db
from web.models import PublishedAssignment, PublishedVersion
from web.models import Rota as RotaRow
from web.security import id_of
from web.services import mail
from web.services.current_rota import current_rota, effective_problem, rota_of
from web.services.labels import people
from web.services.problems import current_dataset, loaded
from web.services.publish_checks import publish_checks
from web.services.published import latest_version, publish, version_rota
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("publish", __name__, "/publish")


# ---- what a diff page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class DiffView:
    diff: RotaDiff
    sessions: list[dict]  # one per session that lost or gained someone
    clinicians: list[dict]  # one per clinician affected
    unfilled_before: list[dict]
    unfilled_after: list[dict]


def diff_view(
    before: Rota, after: Rota, problem: Problem, problem_before: Problem | None = None
) -> DiffView:
    diff = rota_diff(before, after, problem, problem_before)
    problems = (problem, problem_before or problem)

    def session_text(sid: str) -> str:
        for p in problems:
            if sid in p.sessions_by_id:
                return describe_session(p, p.session(sid))
        return sid

    def name(cid: str) -> str:
        for p in problems:
            if cid in p.clinicians_by_id:
                return people(p)(cid)
        return cid

    sessions = [
        {
            "session_id": sid,
            "text": session_text(sid),
            "lost": [name(c) for c in change.lost],
            "gained": [name(c) for c in change.gained],
        }
        for sid, change in diff.by_session.items()
    ]
    clinicians = [
        {
            "clinician_id": cid,
            "name": name(cid),
            "lost": [session_text(s) for s in change.lost],
            "gained": [session_text(s) for s in change.gained],
            "moved": [
                (session_text(m.from_session), session_text(m.to_session)) for m in change.moved
            ],
        }
        for cid, change in sorted(diff.by_clinician.items(), key=lambda kv: name(kv[0]))
    ]

    def short(p: Problem, posts) -> list[dict]:
        return [
            {
                "session_id": s.session_id,
                "text": session_text(s.session_id),
                "roles": roles_or(p.session(s.session_id).posts[s.post_index])
                if s.session_id in p.sessions_by_id
                else "",
                "missing": s.missing,
            }
            for s in posts
        ]

    return DiffView(
        diff,
        sessions,
        clinicians,
        short(problem_before or problem, diff.unfilled_before),
        short(problem, diff.unfilled_after),
    )


def _problem_of(dataset) -> Problem:
    return loaded(dataset).problem


# ---- pages ------------------------------------------------------------------------------


@bp.get("/")
def index():
    db = get_db()
    versions = db.scalars(
        select(PublishedVersion)
        .where(PublishedVersion.federation_id == g.federation.id)
        .order_by(PublishedVersion.number.desc())
        .limit(50)
    ).all()
    counts = dict(
        db.execute(
            select(PublishedAssignment.version_id, func.count(PublishedAssignment.id))
            .join(PublishedVersion)
            .where(PublishedVersion.federation_id == g.federation.id)
            .group_by(PublishedAssignment.version_id)
        ).all()
    )
    return render_template(
        "publish/index.html",
        versions=versions,
        counts=counts,
        current=current_rota(db, g.federation.id),
    )


def _rota_row_or_404(value: str | None) -> RotaRow:
    db = get_db()
    if value and value.isdigit():  # a rota named by id; one past every id is not found
        row_id = id_of(value)
        row = db.get(RotaRow, row_id) if row_id is not None else None
    else:
        row = current_rota(db, g.federation.id)
    if row is None or row.federation_id != g.federation.id:
        abort(404)
    return row


@bp.get("/preview")
def preview():
    """What publishing a rota (the current one unless `rota` names another) would change
    against the latest published version."""
    db = get_db()
    if current_dataset(db, g.federation.id) is None or current_rota(db, g.federation.id) is None:
        flash("There is no rota to publish yet: optimise first.", "info")
        return redirect(url_for(".index"))
    row = _rota_row_or_404(request.args.get("rota"))
    latest = latest_version(db, g.federation.id)
    view = diff_view(
        version_rota(latest),
        rota_of(row),
        _problem_of(row.dataset),
        _problem_of(latest.dataset) if latest else None,
    )
    problem = effective_problem(db, g.federation.id, row.dataset)
    return render_template(
        "publish/preview.html",
        row=row,
        latest=latest,
        view=view,
        checks=publish_checks(problem, rota_of(row)),
        problem=problem,
    )


@bp.post("/")
@role_required("manager")
def publish_rota():
    db = get_db()
    row = _rota_row_or_404(request.form.get("rota"))
    note = request.form.get("note", "").strip()
    revision = request.form.get("revision", "")
    if not note:
        flash(
            "Say why you publish (e.g. 'absence of Dr Smith 6–19 March'): it goes in the "
            "version's record.",
            "error",
        )
        return redirect(url_for(".preview", rota=row.id))
    if revision != str(row.revision):
        flash(
            "The rota was edited after you opened this preview: check the changes again.", "error"
        )
        return redirect(url_for(".preview", rota=row.id))
    try:
        version = publish(db, g.federation.id, g.user.id, row, note[:2000])
        db.commit()
    except IntegrityError:
        db.rollback()
        flash("Someone published at the same moment: check the changes again.", "error")
        return redirect(url_for(".preview", rota=row.id))
    except Exception:
        db.rollback()  # nothing of it was written; and the error page can read the user again
        raise
    mail.after_publish(g.federation, version)  # never undoes the publish
    flash(f"Published version {version.number}: calendar feeds now show it.", "success")
    return redirect(url_for(".version", n=version.number))


def _version_or_404(value: str | None) -> PublishedVersion:
    number = id_of(value)
    if number is None:
        abort(404)
    version = get_db().scalar(
        select(PublishedVersion).where(
            PublishedVersion.federation_id == g.federation.id, PublishedVersion.number == number
        )
    )
    if version is None:
        abort(404)
    return version


@bp.get("/version")
def version():
    if not request.args.get("n", "").isdigit():
        return redirect(url_for(".index"))
    v = _version_or_404(request.args.get("n"))
    problem = _problem_of(v.dataset)
    rows = []
    for a in version_rota(v):
        s = problem.sessions_by_id.get(a.session_id)
        rows.append(
            {
                "order": (s.start_minute, s.hub_id) if s else (0, a.session_id),
                "session": describe_session(problem, s) if s else a.session_id,
                "name": people(problem)(a.clinician_id),
                "locked": a.locked,
            }
        )
    rows.sort(key=lambda r: (r["order"], r["name"]))
    return render_template("publish/version.html", v=v, rows=rows)


@bp.get("/compare")
def compare():
    """Two versions side by side: what changed from `a` to `b` (default: b's predecessor)."""
    if not request.args.get("b", "").isdigit():
        return redirect(url_for(".index"))
    b = _version_or_404(request.args.get("b"))
    a_arg = request.args.get("a") or str(b.number - 1)
    a = _version_or_404(a_arg) if a_arg != "0" else None
    view = diff_view(
        version_rota(a),
        version_rota(b),
        _problem_of(b.dataset),
        _problem_of(a.dataset) if a else None,
    )
    return render_template("publish/compare.html", a=a, b=b, view=view)

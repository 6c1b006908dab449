"""Rota views (grid of dates × hubs, per clinician, per practice) and hand edits.

Pin, unpin, remove and swap run scheduler.checker on the edited rota at once; an edit that
would break a hard rule is refused and the page says which rule and why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for

from scheduler.checker import RotaView, Violation, violations_if_added
from scheduler.domain import Assignment, Clinician, Post, Problem, Session
from scheduler.explain import Unfilled
from scheduler.report import clinician_load, fair_shares
from web.db import get_db
from web.models import Rota as RotaRow
from web.models import RotaAssignment
from web.services import rota_state
from web.services.current_rota import (
    State,
    find,
    findings,
    record,
    remove_violations,
    state,
    swap_violations,
    try_pin,
    week_start,
    weeks_of,
)
from web.services.eligible import swap_options
from web.services.labels import people, role_label, session_label
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("rota", __name__, "/rota")
rota_state.show_on(bp)


@dataclass
class PostView:
    index: int
    post: Post
    people: list[tuple[Clinician, bool]]  # (clinician, locked)
    unfilled: Unfilled | None
    open_places: int  # places up to target still free


@dataclass
class SessionView:
    session: Session
    posts: list[PostView]
    broken: list[Violation] = field(default_factory=list)

    @property
    def short(self) -> bool:
        return any(p.unfilled for p in self.posts)


def _needs_data() -> State:
    st = state(get_db(), g.federation.id)
    if st.problem is None:
        abort(404)
    return st


def _session_views(st: State, sessions: list[Session]) -> list[SessionView]:
    problem = st.problem
    unfilled, broken = findings(st)
    missing = {(u.session_id, u.post_index): u for u in unfilled}
    broken_by_session: dict[str, list[Violation]] = defaultdict(list)
    for v in broken:
        if v.session_id:
            broken_by_session[v.session_id].append(v)
    people: dict[tuple[str, int], list[tuple[Clinician, bool]]] = defaultdict(list)
    for a in st.rota:
        if a.clinician_id in problem.clinicians_by_id:
            people[(a.session_id, a.post_index)].append(
                (problem.clinician(a.clinician_id), a.locked)
            )
    views = []
    for s in sessions:
        posts = []
        for i, post in enumerate(s.posts):
            on = sorted(people.get((s.session_id, i), []), key=lambda p: p[0].name)
            gap = missing.get((s.session_id, i))
            open_places = max(0, post.target - len(on) - (gap.missing if gap else 0))
            posts.append(PostView(i, post, on, gap, open_places))
        views.append(SessionView(s, posts, broken_by_session.get(s.session_id, [])))
    return views


def _filters(problem: Problem) -> dict:
    weeks = weeks_of(problem)
    week_arg = request.args.get("week")
    if week_arg == "all":
        week = None
    else:
        try:
            week = week_start(date.fromisoformat(week_arg)) if week_arg else None
        except ValueError:
            week = None
        if week not in weeks:
            week = weeks[0] if weeks else None
    hub = request.args.get("hub", "")
    role = request.args.get("role", "").strip().casefold()
    roles = sorted(
        {role_label(r) for s in problem.sessions for p in s.posts for r in _roles(p)},
        key=str.casefold,
    )
    return {
        "weeks": weeks,
        "week": week,
        "hub": hub if hub in problem.hubs_by_id else "",
        "role": role,
        "roles": roles,
        "short": request.args.get("short") == "1",
    }


def _roles(post: Post) -> list[str]:
    return [r.strip() for r in post.roles_text.split(";") if r.strip()]


@bp.get("/")
def grid():
    st = _needs_data()
    problem = st.problem
    f = _filters(problem)
    sessions = [
        s
        for s in problem.sessions
        if (f["week"] is None or f["week"] <= s.date < f["week"] + timedelta(days=7))
        and (not f["hub"] or s.hub_id == f["hub"])
        and (not f["role"] or any(f["role"] in p.roles for p in s.posts))
    ]
    views = _session_views(st, sessions)
    if f["short"] or request.args.get("problems"):
        views = [v for v in views if v.short or v.broken]
    hubs = [h for h in problem.hubs if not f["hub"] or h.hub_id == f["hub"]]
    cells: dict[tuple[date, str], list[SessionView]] = defaultdict(list)
    for v in views:
        cells[(v.session.date, v.session.hub_id)].append(v)
    days = sorted({v.session.date for v in views})
    unfilled, broken = findings(st)
    return render_template(
        "rota/grid.html",
        st=st,
        f=f,
        hubs=hubs,
        days=days,
        cells=cells,
        unfilled=unfilled,
        broken=broken,
        timedelta=timedelta,
    )


def _session_or_404(st: State, session_id: str) -> Session:
    if session_id not in st.problem.sessions_by_id:
        abort(404)
    return st.problem.session(session_id)


@bp.get("/session/<session_id>")
def session(session_id: str, refused: list[Violation] | None = None, tried: str = ""):
    st = _needs_data()
    s = _session_or_404(st, session_id)
    view = _session_views(st, [s])[0]
    return render_template(
        "rota/session.html",
        st=st,
        view=view,
        s=s,
        candidates=_candidates(st, s),
        swaps=_swap_options(st, s),
        refused=refused,
        tried=tried,
    ), (409 if refused else 200)


def _candidates(st: State, s: Session) -> list[tuple[Clinician, list[Violation]]]:
    """Everyone whose role one of the session's posts accepts, and what stops them (if anything)."""
    problem = st.problem
    rota_view = RotaView.of(problem, st.rota)
    on = {a.clinician_id for a in st.rota if a.session_id == s.session_id}
    out = []
    for c in sorted(problem.clinicians, key=lambda c: c.name):
        if c.clinician_id in on:
            continue
        accepting = [i for i, p in enumerate(s.posts) if p.accepts(c)]
        if not accepting:
            continue
        found = violations_if_added(problem, rota_view, s.session_id, accepting[0], c.clinician_id)
        out.append((c, found))
    out.sort(key=lambda item: (bool(item[1]), item[0].name))
    return out


def _swap_options(st: State, s: Session) -> list[tuple[Assignment, Session, Clinician, Clinician]]:
    """Exchanges of someone on this session with someone on another session the same week
    that break no hard rule, best first (web.services.eligible)."""
    problem = st.problem
    return [
        (
            o.theirs,
            problem.session(o.theirs.session_id),
            problem.clinician(o.theirs.clinician_id),
            problem.clinician(o.mine.clinician_id),
        )
        for o in swap_options(problem, st.rota, s.session_id)
    ]


def _editable_row(st: State) -> RotaRow:
    """The current rota row, or a new empty one (hand-made) when none exists yet."""
    if st.row is not None:
        return st.row
    row = RotaRow(
        federation_id=g.federation.id,
        dataset_id=st.dataset.id,
        created_by_id=g.user.id,
        source="manual",
        status="",
    )
    get_db().add(row)
    get_db().flush()
    return row


def _name(problem: Problem, clinician_id: str) -> str:
    return people(problem)(clinician_id)


def _on(problem: Problem, clinician_id: str, session_id: str) -> str:
    """'Ann Able on Mon 1 Mar 18:30–20:00 at North Hub', for the audit log."""
    return f"{_name(problem, clinician_id)} on {session_label(problem, session_id)}"


@bp.post("/session/<session_id>/pin")
@role_required("coordinator")
def pin(session_id: str):
    st = _needs_data()
    s = _session_or_404(st, session_id)
    problem = st.problem
    clinician_id = request.form.get("clinician_id", "")
    if clinician_id not in problem.clinicians_by_id:
        abort(400)
    post_arg = request.form.get("post_index", "")
    post_index = int(post_arg) if post_arg.isdigit() and int(post_arg) < len(s.posts) else None
    db = get_db()
    existing = find(st.row, session_id, clinician_id) if st.row else None
    if existing is not None:
        if not existing.locked:
            existing.locked = True
            record(db, st.row, g.user.id, "pin", f"pinned {_on(problem, clinician_id, session_id)}")
            db.commit()
        flash(f"{_name(problem, clinician_id)} is pinned to this session.", "success")
        return redirect(url_for(".session", session_id=session_id))
    added, refused = try_pin(problem, st.rota, session_id, clinician_id, post_index)
    if added is None:
        return session(session_id, refused=refused, tried=_name(problem, clinician_id))
    row = _editable_row(st)
    row.assignments.append(
        RotaAssignment(
            session_id=added.session_id,
            post_index=added.post_index,
            clinician_id=added.clinician_id,
            locked=True,
        )
    )
    record(db, row, g.user.id, "pin", f"pinned {_on(problem, clinician_id, session_id)}")
    db.commit()
    flash(f"Pinned {_name(problem, clinician_id)}: the optimiser will keep them here.", "success")
    return redirect(url_for(".session", session_id=session_id))


@bp.post("/session/<session_id>/unpin")
@role_required("coordinator")
def unpin(session_id: str):
    st = _needs_data()
    _session_or_404(st, session_id)
    clinician_id = request.form.get("clinician_id", "")
    existing = find(st.row, session_id, clinician_id) if st.row else None
    if existing is None:
        abort(404)
    db = get_db()
    if existing.locked:
        existing.locked = False
        record(
            db, st.row, g.user.id, "unpin", f"unpinned {_on(st.problem, clinician_id, session_id)}"
        )
        db.commit()
    flash(f"Unpinned {_name(st.problem, clinician_id)}: the optimiser may move them.", "success")
    return redirect(url_for(".session", session_id=session_id))


@bp.post("/session/<session_id>/remove")
@role_required("coordinator")
def remove(session_id: str):
    st = _needs_data()
    _session_or_404(st, session_id)
    clinician_id = request.form.get("clinician_id", "")
    existing = find(st.row, session_id, clinician_id) if st.row else None
    if existing is None:
        abort(404)
    a = Assignment(existing.session_id, existing.post_index, existing.clinician_id, existing.locked)
    refused = remove_violations(st.problem, st.rota, a)
    if refused:
        return session(
            session_id, refused=refused, tried=f"removing {_name(st.problem, clinician_id)}"
        )
    db = get_db()
    st.row.assignments.remove(existing)
    record(db, st.row, g.user.id, "remove", f"removed {_on(st.problem, clinician_id, session_id)}")
    db.commit()
    flash(f"Removed {_name(st.problem, clinician_id)} from this session.", "success")
    return redirect(url_for(".session", session_id=session_id))


@bp.post("/session/<session_id>/swap")
@role_required("coordinator")
def swap(session_id: str):
    st = _needs_data()
    _session_or_404(st, session_id)
    clinician_id = request.form.get("clinician_id", "")
    other_session, _, other_clinician = request.form.get("other", "").partition("|")
    mine = find(st.row, session_id, clinician_id) if st.row else None
    theirs = find(st.row, other_session, other_clinician) if st.row else None
    if mine is None or theirs is None or mine is theirs:
        abort(400)
    a = Assignment(mine.session_id, mine.post_index, mine.clinician_id, mine.locked)
    b = Assignment(theirs.session_id, theirs.post_index, theirs.clinician_id, theirs.locked)
    problem = st.problem
    what = f"swapping {_name(problem, a.clinician_id)} and {_name(problem, b.clinician_id)}"
    if a.clinician_id == b.clinician_id:
        return session(
            session_id,
            refused=[
                Violation("overlap", a.clinician_id, session_id, "is on both sessions already")
            ],
            tried=what,
        )
    refused = swap_violations(problem, st.rota, a, b)
    if refused:
        return session(session_id, refused=refused, tried=what)
    db = get_db()
    mine.clinician_id, theirs.clinician_id = b.clinician_id, a.clinician_id
    record(
        db,
        st.row,
        g.user.id,
        "swap",
        f"swapped {_on(problem, a.clinician_id, a.session_id)} "
        f"with {_on(problem, b.clinician_id, b.session_id)}",
    )
    db.commit()
    flash(
        f"Swapped {_name(problem, a.clinician_id)} and {_name(problem, b.clinician_id)}.", "success"
    )
    return redirect(url_for(".session", session_id=session_id))


# ---- per clinician and per practice ------------------------------------------------------------


@bp.get("/clinicians")
def clinicians():
    st = _needs_data()
    rows = clinician_load(st.problem, _known_rota(st))
    practice = request.args.get("practice", "")
    role = request.args.get("role", "").casefold()
    rows = [
        r
        for r in rows
        if (not practice or r["practice_code"] == practice)
        and (not role or role_label(r["role"]).casefold() == role)
    ]
    roles = sorted({role_label(c.role) for c in st.problem.clinicians}, key=str.casefold)
    return render_template(
        "rota/clinicians.html", st=st, rows=rows, practice=practice, role=role, roles=roles
    )


@bp.get("/clinician/<clinician_id>")
def clinician(clinician_id: str):
    st = _needs_data()
    if clinician_id not in st.problem.clinicians_by_id:
        abort(404)
    c = st.problem.clinician(clinician_id)
    mine = [a for a in _known_rota(st) if a.clinician_id == clinician_id]
    sessions = sorted(
        (st.problem.session(a.session_id) for a in mine), key=lambda s: s.start_minute
    )
    locked = {a.session_id for a in mine if a.locked}
    load = next(
        r for r in clinician_load(st.problem, _known_rota(st)) if r["clinician_id"] == clinician_id
    )
    _, broken = findings(st)
    return render_template(
        "rota/clinician.html",
        st=st,
        c=c,
        sessions=sessions,
        locked=locked,
        load=load,
        broken=[v for v in broken if v.clinician_id == clinician_id],
    )


@bp.get("/practices")
def practices():
    st = _needs_data()
    return render_template(
        "rota/practices.html", st=st, rows=fair_shares(st.problem, _known_rota(st))
    )


@bp.get("/practice/<code>")
def practice(code: str):
    st = _needs_data()
    if code not in st.problem.practices_by_code:
        abort(404)
    p = st.problem.practice(code)
    rota = _known_rota(st)
    share = next(r for r in fair_shares(st.problem, rota) if r["practice_code"] == code)
    members = {c.clinician_id for c in st.problem.clinicians if c.practice_code == code}
    rows = sorted(
        (
            (st.problem.session(a.session_id), st.problem.clinician(a.clinician_id))
            for a in rota
            if a.clinician_id in members
        ),
        key=lambda x: (x[0].start_minute, x[1].name),
    )
    load = [r for r in clinician_load(st.problem, rota) if r["practice_code"] == code]
    return render_template("rota/practice.html", st=st, p=p, share=share, rows=rows, load=load)


def _known_rota(st: State) -> tuple[Assignment, ...]:
    problem = st.problem
    return tuple(
        a
        for a in st.rota
        if a.session_id in problem.sessions_by_id and a.clinician_id in problem.clinicians_by_id
    )

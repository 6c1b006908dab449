"""Clinicians, practices, hubs and sessions of the current data: list (with filters) and get."""

from __future__ import annotations

from datetime import date

import marshmallow as ma

from scheduler.checker import roles_or
from scheduler.domain import Clinician, Hub, Practice, Session
from web.api.resources import (
    PageArgs,
    blueprint,
    current_problem,
    need_problem,
    not_found,
    page_schema,
    paginate,
)

bp = blueprint("catalogue", "", "Clinicians, practices, hubs and sessions of the current data")


class PracticeSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    list_size = ma.fields.Integer(required=True)
    adjusted_population = ma.fields.Integer(required=True)
    network = ma.fields.String(required=True)


class HubSchema(ma.Schema):
    hub_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    postcode = ma.fields.String(required=True)
    rooms = ma.fields.Integer(required=True, allow_none=True)
    network = ma.fields.String(required=True)


class ClinicianSchema(ma.Schema):
    clinician_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    practice_code = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    skills = ma.fields.Function(lambda c: sorted(c.skills), required=True)
    hubs = ma.fields.Function(lambda c: sorted(c.hubs), required=True)
    max_sessions_per_week = ma.fields.Integer(required=True)
    max_sessions_per_period = ma.fields.Integer(required=True, allow_none=True)
    min_sessions_per_period = ma.fields.Integer(required=True)


class PostSchema(ma.Schema):
    roles = ma.fields.Function(roles_or, required=True)
    min = ma.fields.Integer(required=True)
    target = ma.fields.Integer(required=True)
    skill = ma.fields.String(required=True, allow_none=True)


class SessionSchema(ma.Schema):
    session_id = ma.fields.String(required=True)
    hub_id = ma.fields.String(required=True)
    date = ma.fields.Date(required=True)
    start = ma.fields.Time(format="%H:%M", required=True)
    end = ma.fields.Time(format="%H:%M", required=True)
    minutes = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    posts = ma.fields.List(ma.fields.Nested(PostSchema), required=True)


class ClinicianArgs(PageArgs):
    practice = ma.fields.String(metadata={"description": "practice code"})
    role = ma.fields.String(metadata={"description": "role, e.g. GP (any case)"})
    q = ma.fields.String(metadata={"description": "part of the name or id"})


class PracticeArgs(PageArgs):
    network = ma.fields.String()


class HubArgs(PageArgs):
    network = ma.fields.String()


class SessionArgs(PageArgs):
    hub = ma.fields.String(metadata={"description": "hub id"})
    date = ma.fields.Date(metadata={"description": "one day"})
    date_from = ma.fields.Date(data_key="from", metadata={"description": "from this day"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "up to this day"})
    role = ma.fields.String(metadata={"description": "sessions with a post this role may take"})


@bp.get("/clinicians")
@bp.arguments(ClinicianArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(ClinicianSchema, "ClinicianPage"))
def clinicians(**args):
    """Clinicians, by id; filter by practice, role or part of the name."""
    problem = current_problem()
    rows: list[Clinician] = list(problem.clinicians) if problem else []
    if args.get("practice"):
        rows = [c for c in rows if c.practice_code == args["practice"]]
    if args.get("role"):
        rows = [c for c in rows if c.role.casefold() == args["role"].strip().casefold()]
    if args.get("q"):
        q = args["q"].strip().casefold()
        rows = [c for c in rows if q in c.name.casefold() or q in c.clinician_id.casefold()]
    return paginate(rows, lambda c: c.clinician_id, args)


@bp.get("/clinicians/<clinician_id>")
@bp.response(200, ClinicianSchema)
def clinician(clinician_id: str):
    """One clinician."""
    problem = need_problem()
    if clinician_id not in problem.clinicians_by_id:
        raise not_found("such clinician")
    return problem.clinician(clinician_id)


@bp.get("/practices")
@bp.arguments(PracticeArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(PracticeSchema, "PracticePage"))
def practices(**args):
    """Practices, by code; filter by network."""
    problem = current_problem()
    rows: list[Practice] = list(problem.practices) if problem else []
    if args.get("network"):
        rows = [p for p in rows if p.network == args["network"]]
    return paginate(rows, lambda p: p.code, args)


@bp.get("/practices/<code>")
@bp.response(200, PracticeSchema)
def practice(code: str):
    """One practice."""
    found = need_problem().practices_by_code.get(code)
    if found is None:
        raise not_found("such practice")
    return found


@bp.get("/hubs")
@bp.arguments(HubArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(HubSchema, "HubPage"))
def hubs(**args):
    """Hubs, by id; filter by network."""
    problem = current_problem()
    rows: list[Hub] = list(problem.hubs) if problem else []
    if args.get("network"):
        rows = [h for h in rows if h.network == args["network"]]
    return paginate(rows, lambda h: h.hub_id, args)


@bp.get("/hubs/<hub_id>")
@bp.response(200, HubSchema)
def hub(hub_id: str):
    """One hub."""
    found = need_problem().hubs_by_id.get(hub_id)
    if found is None:
        raise not_found("such hub")
    return found


@bp.get("/sessions")
@bp.arguments(SessionArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(SessionSchema, "SessionPage"))
def sessions(**args):
    """Sessions, by start then hub; filter by hub, day, days from/to, or a role they need."""
    problem = current_problem()
    rows: list[Session] = list(problem.sessions) if problem else []
    if args.get("hub"):
        rows = [s for s in rows if s.hub_id == args["hub"]]
    day: date | None = args.get("date")
    if day is not None:
        rows = [s for s in rows if s.date == day]
    if args.get("date_from") is not None:
        rows = [s for s in rows if s.date >= args["date_from"]]
    if args.get("date_to") is not None:
        rows = [s for s in rows if s.date <= args["date_to"]]
    if args.get("role"):
        role = args["role"].strip().casefold()
        rows = [s for s in rows if any(role in p.roles for p in s.posts)]
    return paginate(rows, lambda s: (s.start_minute, s.hub_id, s.session_id), args)


@bp.get("/sessions/<session_id>")
@bp.response(200, SessionSchema)
def session(session_id: str):
    """One session and its posts."""
    problem = need_problem()
    if session_id not in problem.sessions_by_id:
        raise not_found("such session")
    return problem.session(session_id)

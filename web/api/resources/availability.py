"""Availability and absences: a clinician's days read and set (A, P, U, or '' to withdraw
what was entered), saved as a new data version exactly as the Availability page saves them;
absences recorded (starting the re-run from the published rota), listed and withdrawn."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask import current_app, g
from sqlalchemy import select

from web.api.auth import requires
from web.api.problems import Problem
from web.api.resources import (
    ID,
    Instant,
    PageArgs,
    blueprint,
    need_problem,
    not_found,
    page_schema,
    paginate,
)
from web.api.resources.runs import RunSchema, run_json
from web.db import get_db
from web.models import Absence, Job
from web.services.absences import absence_error, record_absence, withdraw_absence
from web.services.availability import save_changes
from web.services.current_rota import current_rota
from web.services.jobs import RunRefused
from web.services.labels import people
from web.services.problems import current_dataset
from web.services.upload_preview import LETTER

bp = blueprint("availability", "", "Availability of clinicians, and absences")
LETTERS = ("", "A", "P", "U")


class OfferSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "A, P or U"})
    start = ma.fields.Time(format="%H:%M", required=True, allow_none=True)
    end = ma.fields.Time(format="%H:%M", required=True, allow_none=True)


class DaySchema(ma.Schema):
    date = ma.fields.Date(required=True)
    status = ma.fields.String(
        required=True, metadata={"description": "A, P, U, or '' when nothing was entered"}
    )
    offers = ma.fields.List(ma.fields.Nested(OfferSchema), required=True)


class AvailabilitySchema(ma.Schema):
    clinician_id = ma.fields.String(required=True)
    dataset_version = ma.fields.Integer(required=True)
    default = ma.fields.String(
        required=True, metadata={"description": "what a day with nothing entered counts as"}
    )
    days = ma.fields.List(ma.fields.Nested(DaySchema), required=True)


class SetAvailabilitySchema(ma.Schema):
    days = ma.fields.Dict(
        keys=ma.fields.Date(),
        values=ma.fields.String(validate=ma.validate.OneOf(LETTERS)),
        required=True,
        validate=ma.validate.Length(min=1, max=400),
        metadata={"description": "day → A, P, U, or '' to withdraw what was entered"},
    )


class AbsenceSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    clinician_id = ma.fields.String(required=True)
    first = ma.fields.Date(required=True, attribute="first_day")
    last = ma.fields.Date(required=True, attribute="last_day")
    reason = ma.fields.String(required=True)
    created_at = Instant(required=True)
    run_id = ma.fields.Integer(required=True, allow_none=True, attribute="job_id")


class NewAbsenceSchema(ma.Schema):
    clinician_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    first = ma.fields.Date(required=True)
    last = ma.fields.Date(required=True)
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))


class RecordedSchema(ma.Schema):
    absence = ma.fields.Nested(AbsenceSchema, required=True)
    run = ma.fields.Nested(RunSchema, required=True)


class AbsenceArgs(PageArgs):
    clinician = ma.fields.String(metadata={"description": "one clinician's absences"})


def _availability(clinician_id: str) -> dict:
    dataset = current_dataset(get_db(), g.federation.id)
    problem = need_problem()
    if clinician_id not in problem.clinicians_by_id:
        raise not_found("such clinician")
    days = []
    for day in problem.days():
        offers = problem.availability.get((clinician_id, day), ())
        days.append(
            {
                "date": day,
                "status": LETTER[offers[0].status] if offers else "",
                "offers": [
                    {"status": LETTER[o.status], "start": o.start, "end": o.end} for o in offers
                ],
            }
        )
    return {
        "clinician_id": clinician_id,
        "dataset_version": dataset.version if dataset else 0,
        "default": LETTER[problem.rules.availability_default],
        "days": days,
    }


@bp.get("/availability/<clinician_id>")
@bp.response(200, AvailabilitySchema)
def availability(clinician_id: str):
    """A clinician's availability for every day of the period."""
    return _availability(clinician_id)


@bp.put("/availability/<clinician_id>")
@requires("coordinator")
@bp.arguments(SetAvailabilitySchema)
@bp.response(200, AvailabilitySchema)
@bp.alt_response(422, description="The result does not load: `errors` says where")
def set_availability(args, clinician_id: str):
    """Set some days (A, P or U), or withdraw them (''): a new data version."""
    db = get_db()
    dataset = current_dataset(db, g.federation.id)
    problem = need_problem()
    if clinician_id not in problem.clinicians_by_id:
        raise not_found("such clinician")
    period = set(problem.days())
    outside = sorted(d for d in args["days"] if d not in period)
    if outside:
        raise Problem(
            422,
            f"The rota period is {problem.period_start} to {problem.period_end}.",
            errors=[{"field": f"days.{d}", "message": "outside the rota period"} for d in outside],
        )
    current = {d["date"]: d["status"] for d in _availability(clinician_id)["days"]}
    changes: dict[date, str] = {d: v for d, v in args["days"].items() if current.get(d) != v}
    if changes:
        errors = save_changes(db, g.federation.id, g.user.id, dataset, clinician_id, changes)
        if errors:
            raise Problem(
                422,
                "The availability would not load: nothing was saved.",
                kind="input-errors",
                errors=[{k: e[k] for k in ("file", "row", "column", "message")} for e in errors],
            )
    return _availability(clinician_id)


@bp.get("/absences")
@bp.arguments(AbsenceArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(AbsenceSchema, "AbsencePage"))
def absences(**args):
    """Recorded absences, newest first."""
    query = select(Absence).where(Absence.federation_id == g.federation.id)
    if args.get("clinician"):
        query = query.where(Absence.clinician_id == args["clinician"])
    return paginate(get_db().scalars(query).all(), lambda a: -a.id, args)


@bp.post("/absences")
@requires("coordinator")
@bp.arguments(NewAbsenceSchema)
@bp.response(202, RecordedSchema)
@bp.alt_response(409, description="A run of the period is going: nothing was recorded")
def record(args):
    """Record an absence and start the re-run from the published rota (one go)."""
    db = get_db()
    problem = need_problem()
    first, last = args["first"], args["last"]
    if current_rota(db, g.federation.id) is None:
        raise Problem(409, "There is no rota to re-run from yet: optimise first.", kind="no-rota")
    error = absence_error(problem, args["clinician_id"], first, last, rota=True)
    if error:
        field, message = error
        raise Problem(422, message, errors=[{"field": field, "message": message}])
    try:
        job_id = record_absence(
            current_app._get_current_object(),
            g.federation.id,
            g.user.id,
            args["clinician_id"],
            first,
            last,
            args["reason"].strip(),
            who=people(problem)(args["clinician_id"]),
        )
    except RunRefused as refused:
        extra = {"job_id": refused.job_id} if refused.job_id is not None else {}
        raise Problem(
            409, refused.message + " The absence was not recorded.", kind="run-going", **extra
        ) from None
    absence = db.scalar(select(Absence).where(Absence.job_id == job_id))
    return {"absence": absence, "run": run_json(db.get(Job, job_id))}


@bp.delete(f"/absences/<{ID}:absence_id>")
@requires("coordinator")
@bp.response(204)
def withdraw(absence_id: int):
    """Withdraw an absence: the next run may use those days again."""
    db = get_db()
    row = db.get(Absence, absence_id)
    if row is None or row.federation_id != g.federation.id:
        raise not_found("such absence")
    withdraw_absence(db, row, g.user.id)
    return ""

"""Optimiser runs: start one (managers; 409 while one of the period is going), watch its
progress, cancel it, and read what it found."""

from __future__ import annotations

import json

import marshmallow as ma
from flask import current_app, g
from sqlalchemy import select

from web.api.auth import requires
from web.api.problems import Problem
from web.api.resources import ID, Instant, PageArgs, blueprint, not_found, page_schema, paginate
from web.db import get_db
from web.models import Job
from web.services.jobs import ACTIVE, RunRefused, cancel, reap_federation, start_optimise
from web.services.problems import current_dataset

bp = blueprint("runs", "/runs", "Optimiser runs: start, progress, cancel, result")
MAX_TIME_LIMIT = 3600


class ResultSchema(ma.Schema):
    rota_id = ma.fields.Integer(required=True)
    solver_status = ma.fields.String(required=True)
    assignments = ma.fields.Integer(required=True)
    objective = ma.fields.Integer(required=True, allow_none=True)
    bound = ma.fields.Integer(required=True, allow_none=True)
    seconds = ma.fields.Float(required=True, allow_none=True)


class RunSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "optimise | absence"})
    status = ma.fields.String(
        required=True, metadata={"description": "queued | running | done | failed | cancelled"}
    )
    active = ma.fields.Boolean(required=True)
    message = ma.fields.String(required=True)
    period = ma.fields.String(required=True)
    time_limit = ma.fields.Integer(required=True)
    cancel_requested = ma.fields.Boolean(required=True)
    created_at = Instant(required=True)
    finished_at = Instant(required=True, allow_none=True)
    phase = ma.fields.String(required=True)
    phase_number = ma.fields.Integer(required=True)
    phases = ma.fields.Integer(required=True)
    elapsed = ma.fields.Float(required=True)
    best = ma.fields.Integer(required=True, allow_none=True)
    bound = ma.fields.Integer(required=True, allow_none=True)
    gap = ma.fields.Float(required=True, allow_none=True)
    result = ma.fields.Nested(ResultSchema, required=True, allow_none=True)


class StartSchema(ma.Schema):
    time_limit = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(1, MAX_TIME_LIMIT),
        metadata={"description": "seconds; default: the federation's setting"},
    )


def run_json(job: Job) -> dict:
    try:
        progress = json.loads(job.progress) if job.progress else {}
    except ValueError:
        progress = {}
    result = None
    if job.rota is not None:
        result = {
            "rota_id": job.rota.id,
            "solver_status": job.rota.status,
            "assignments": len(job.rota.assignments),
            "objective": job.rota.objective,
            "bound": job.rota.bound,
            "seconds": job.rota.seconds,
        }
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "active": job.status in ACTIVE,
        "message": job.message,
        "period": job.period,
        "time_limit": job.time_limit_seconds,
        "cancel_requested": job.cancel_requested,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "phase": progress.get("phase", ""),
        "phase_number": progress.get("phase_number", 0),
        "phases": progress.get("phases", 0),
        "elapsed": progress.get("elapsed", 0.0),
        "best": progress.get("best"),
        "bound": progress.get("bound"),
        "gap": progress.get("gap"),
        "result": result,
    }


def _job(run_id: int) -> Job:
    db = get_db()
    reap_federation(db, g.federation.id)  # a run whose process died is not going
    job = db.get(Job, run_id)
    if job is None or job.federation_id != g.federation.id:
        raise not_found("such run")
    return job


@bp.get("/")
@bp.arguments(PageArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(RunSchema, "RunPage"))
def runs(**args):
    """The federation's runs, newest first."""
    jobs = get_db().scalars(select(Job).where(Job.federation_id == g.federation.id)).all()
    page = paginate(jobs, lambda j: -j.id, args)
    page["items"] = [run_json(j) for j in page["items"]]
    return page


@bp.post("/")
@requires("manager")
@bp.arguments(StartSchema, location="json", required=False)
@bp.response(202, RunSchema)
@bp.alt_response(409, description="A run of the rota period is already going (`job_id`)")
def start(args):
    """Start the optimiser on the current data (managers and admins)."""
    if current_dataset(get_db(), g.federation.id) is None:
        raise Problem(409, "Upload data before optimising.", kind="no-data")
    try:
        job_id = start_optimise(
            current_app._get_current_object(),
            g.federation.id,
            g.user.id,
            (args or {}).get("time_limit"),
        )
    except RunRefused as refused:
        extra = {"job_id": refused.job_id} if refused.job_id is not None else {}
        raise Problem(409, refused.message, kind="run-going", **extra) from None
    return run_json(_job(job_id))


@bp.get(f"/<{ID}:run_id>")
@bp.response(200, RunSchema)
def run(run_id: int):
    """A run's status and progress; once done, `result` summarises the rota it made."""
    return run_json(_job(run_id))


@bp.post(f"/<{ID}:run_id>/cancel")
@requires("manager")
@bp.response(200, RunSchema)
def cancel_run(run_id: int):
    """Ask a run to stop; a cancelled run keeps nothing it found."""
    job = _job(run_id)
    cancel(get_db(), job, g.user.id)
    return run_json(job)

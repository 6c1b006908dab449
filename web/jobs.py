"""Optimiser runs in a background thread, outside the request that asked for them.

Deliberately small: `start_optimise` and `wait` are the whole interface, so the later
RQ-worker job system can replace this module without touching the pages.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from scheduler.checker import check
from scheduler.domain import SolveParams, SolveStatus
from scheduler.solve import solve
from web.db import new_session
from web.models import Federation, Job, Rota, RotaAssignment, utcnow
from web.problems import current_dataset, loaded
from web.rotas import current_rota, problem_to_optimise, rota_of

EXTENSION = "hubrota.jobs"
log = logging.getLogger(__name__)


class _Threads:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[int, threading.Thread] = {}


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = _Threads()


# A run still marked running this long after its time limit died with its process.
GRACE_SECONDS = 300


def running_job(db, federation_id: int) -> Job | None:
    """The federation's run in progress, if any (one whose process died does not count)."""
    job = db.scalar(select(Job).where(Job.federation_id == federation_id,
                                      Job.status == "running").order_by(Job.id.desc()).limit(1))
    if job is None or _stale(job):
        return None
    return job


def _stale(job: Job) -> bool:
    limit = timedelta(seconds=job.time_limit_seconds + GRACE_SECONDS)
    return job.created_at < utcnow() - limit


def start_optimise(app: Flask, federation_id: int, user_id: int | None,
                   time_limit: int | None = None) -> int:
    """Start a run (or return the one already running for the federation); its job id."""
    threads: _Threads = app.extensions[EXTENSION]
    with threads.lock, new_session(app) as db:
        job = running_job(db, federation_id)
        if job is not None:  # one run at a time per federation
            return job.id
        for lost in db.scalars(select(Job).where(Job.federation_id == federation_id,
                                                 Job.status == "running")):
            lost.status, lost.message, lost.finished_at = "failed", "interrupted", utcnow()
        federation = db.get(Federation, federation_id)
        job = Job(federation_id=federation_id, user_id=user_id, status="running",
                  time_limit_seconds=time_limit or federation.time_limit_seconds)
        db.add(job)
        db.commit()
        thread = threading.Thread(target=_run, args=(app, job.id), daemon=True,
                                  name=f"hubrota-job-{job.id}")
        threads.running[job.id] = thread
        thread.start()
        return job.id


def wait(app: Flask, timeout: float | None = None) -> None:
    """Wait for every running job of the app (tests and the demo use it)."""
    threads: _Threads = app.extensions[EXTENSION]
    with threads.lock:
        pending = list(threads.running.values())
    for thread in pending:
        thread.join(timeout)


def _run(app: Flask, job_id: int) -> None:
    try:
        with app.app_context(), new_session(app) as db:
            job = db.get(Job, job_id)
            try:
                job.status, job.message, job.rota_id = _optimise(app, db, job)
            except Exception as exc:  # a job must always end; the log has the traceback
                log.exception("job %s failed", job_id)
                db.rollback()
                job = db.get(Job, job_id)
                job.status, job.message = "failed", f"{type(exc).__name__}: {exc}"
            job.finished_at = utcnow()
            db.commit()
    finally:
        threads: _Threads = app.extensions[EXTENSION]
        with threads.lock:
            threads.running.pop(job_id, None)


def _optimise(app: Flask, db, job: Job) -> tuple[str, str, int | None]:
    dataset = current_dataset(db, job.federation_id)
    if dataset is None:
        return "failed", "no data uploaded yet", None
    problem = loaded(dataset).problem
    previous = current_rota(db, job.federation_id)
    problem = problem_to_optimise(problem, rota_of(previous))
    params = SolveParams(time_limit=float(job.time_limit_seconds),
                         workers=int(app.config["SOLVER_WORKERS"]))
    result = solve(problem, params)
    if result.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return "failed", f"no rota: {result.message or result.status.value}", None
    broken = check(problem, result.rota)
    if broken:  # the model and the checker disagree: never store such a rota
        return "failed", "internal error: " + "; ".join(v.line() for v in broken[:3]), None
    row = Rota(federation_id=job.federation_id, dataset_id=dataset.id, created_by_id=job.user_id,
               source="optimiser", status=result.status.value, objective=result.objective,
               bound=result.bound, seconds=round(result.seconds, 2), message=result.message)
    row.assignments = [RotaAssignment(session_id=a.session_id, post_index=a.post_index,
                                      clinician_id=a.clinician_id, locked=a.locked)
                       for a in result.rota]
    db.add(row)
    db.flush()
    return "done", f"{result.status.value}: {len(result.rota)} assignments", row.id

"""Optimiser runs: start one (managers), watch it live, cancel it, see earlier runs and rotas."""

from __future__ import annotations

import json

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from web.db import get_db
from web.models import Job, Rota, RotaEdit
from web.security import id_of
from web.services.current_rota import effective_problem, rota_of
from web.services.jobs import ACTIVE, RunRefused, cancel, period_text, running_job, start_optimise
from web.services.labels import with_labels
from web.services.problems import current_dataset
from web.services.rota_figures import RotaFigures, rota_figures
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("runs", __name__, "/runs")

CHART_WIDTH, CHART_HEIGHT = 560, 160  # the plot; labels sit in a margin around it


@bp.get("/")
def index():
    db = get_db()
    jobs = db.scalars(
        select(Job).where(Job.federation_id == g.federation.id).order_by(Job.id.desc()).limit(20)
    ).all()
    rotas = db.scalars(
        select(Rota).where(Rota.federation_id == g.federation.id).order_by(Rota.id.desc()).limit(10)
    ).all()
    edits = db.scalars(
        select(RotaEdit)
        .join(Rota)
        .where(Rota.federation_id == g.federation.id)
        .order_by(RotaEdit.id.desc())
        .limit(30)
    ).all()
    return render_template(
        "runs/index.html",
        jobs=jobs,
        rotas=rotas,
        edits=edits,
        running=running_job(db, g.federation.id),
        has_data=current_dataset(db, g.federation.id) is not None,
    )


@bp.post("/optimise")
@role_required("manager")
def optimise():
    if current_dataset(get_db(), g.federation.id) is None:
        flash("Upload data before optimising.", "error")
        return redirect(url_for("data.index"))
    try:
        job_id = start_optimise(current_app._get_current_object(), g.federation.id, g.user.id)
    except RunRefused as refused:
        flash(refused.message, "error")
        if refused.job_id is not None:
            return redirect(url_for(".watch", job=refused.job_id))
        return redirect(url_for(".index"))
    return redirect(url_for(".watch", job=job_id))


def _job_or_404() -> Job:
    job_id = request.values.get("job", "")
    number = id_of(job_id)
    job = get_db().get(Job, number) if number is not None else None
    if job is None or job.federation_id != g.federation.id:
        abort(404)
    return job


def progress_of(job: Job) -> dict:
    """The run's state for the page and its JSON: status, progress and where the result is."""
    try:
        progress = json.loads(job.progress) if job.progress else {}
    except ValueError:
        progress = {}
    result = None
    if job.rota_id is not None:
        result = (
            url_for("publish.preview", rota=job.rota_id)
            if job.kind == "absence"
            else url_for("rota.grid")
        )
    figures = _figures_of(job)
    return {
        "figures": figures.as_dict() if figures else None,
        "objective": job.rota.objective if job.rota is not None else None,
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "active": job.status in ACTIVE,
        "message": job.message,
        "cancel_requested": job.cancel_requested,
        "time_limit": job.time_limit_seconds,
        "result_url": result,
        **progress,
    }


def _figures_of(job: Job) -> RotaFigures | None:
    """The coordinator's figures of the rota the run made (None while it runs or if none)."""
    if job.rota is None:
        return None
    problem = effective_problem(get_db(), job.federation_id, job.rota.dataset)
    return rota_figures(problem, rota_of(job.rota))


def chart_points(progress: dict) -> dict[str, str]:
    """SVG polyline points of one phase's best value and bound over elapsed time, with the
    labels of its axes (the phases are minimised one after another, each on its own scale)."""
    by_phase: dict[int, list[list]] = {}
    for s in progress.get("samples", []):
        if s[2] is not None:
            by_phase.setdefault(s[1], []).append(s)
    # the current phase, else (a phase that found its value at once) the last with a history
    phase = progress.get("phase_number")
    if len(by_phase.get(phase, [])) < 2:
        phase = max((p for p, ss in by_phase.items() if len(ss) > 1), default=phase)
    samples = by_phase.get(phase, [])
    if not samples:
        return {"phase": "", "best": "", "bound": "", "high": "", "low": "", "from": "", "to": ""}
    t0, t1 = samples[0][0], max(samples[-1][0], samples[0][0] + 1e-6)
    values = [v for s in samples for v in (s[2], s[3]) if v is not None]
    low, high = min(values), max(values)
    span = (high - low) or 1

    def point(t: float, v: float) -> str:
        x = (t - t0) / (t1 - t0) * CHART_WIDTH
        y = CHART_HEIGHT - (v - low) / span * (CHART_HEIGHT - 10) - 5
        return f"{x:.1f},{y:.1f}"

    return {
        "phase": progress.get("phase_names", {}).get(str(phase), ""),
        "best": " ".join(point(s[0], s[2]) for s in samples),
        "bound": " ".join(point(s[0], s[3]) for s in samples if s[3] is not None),
        "high": str(high),
        "low": str(low),
        "from": f"{t0:.1f} s",
        "to": f"{t1:.1f} s",
    }


@bp.get("/watch")
def watch():
    if not request.args.get("job", "").isdigit():
        return redirect(url_for(".index"))
    job = _job_or_404()
    progress = progress_of(job)
    return render_template(
        "runs/watch.html",
        job=job,
        progress=progress,
        points=chart_points(progress),
        period=period_text(job.period),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        detail=_detail_of(job),
    )


def _detail_of(job: Job) -> dict:
    """What the run was asked to do; the pins that stopped it named as pages name people."""
    detail = json.loads(job.detail or "{}")
    if detail.get("conflict"):
        dataset = job.rota.dataset if job.rota else current_dataset(get_db(), job.federation_id)
        if dataset is not None:
            problem = effective_problem(get_db(), job.federation_id, dataset)
            detail["conflict"] = [with_labels(line, problem) for line in detail["conflict"]]
    return detail


@bp.get("/progress")
def progress():
    """The run page's JSON, polled by static/runs.js."""
    if not request.args.get("job", "").isdigit():
        return redirect(url_for(".index"))
    job = _job_or_404()
    data = progress_of(job)
    data["points"] = chart_points(data)
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/cancel")
@role_required("manager")
def cancel_run():
    job = _job_or_404()
    flash(cancel(get_db(), job, g.user.id), "info")
    return redirect(url_for(".watch", job=job.id))

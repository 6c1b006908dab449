"""Optimiser runs: start one (managers), watch it, see earlier rotas."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from web.auth import federation_blueprint, role_required
from web.db import get_db
from web.jobs import running_job, start_optimise
from web.models import Job, Rota, RotaEdit
from web.problems import current_dataset

bp = federation_blueprint("runs", __name__, "/runs")


@bp.get("/")
def index():
    db = get_db()
    jobs = db.scalars(select(Job).where(Job.federation_id == g.federation.id)
                      .order_by(Job.id.desc()).limit(20)).all()
    rotas = db.scalars(select(Rota).where(Rota.federation_id == g.federation.id)
                       .order_by(Rota.id.desc()).limit(10)).all()
    edits = db.scalars(select(RotaEdit).join(Rota).where(Rota.federation_id == g.federation.id)
                       .order_by(RotaEdit.id.desc()).limit(30)).all()
    return render_template("runs/index.html", jobs=jobs, rotas=rotas, edits=edits,
                           running=running_job(db, g.federation.id),
                           has_data=current_dataset(db, g.federation.id) is not None)


@bp.post("/optimise")
@role_required("manager")
def optimise():
    if current_dataset(get_db(), g.federation.id) is None:
        flash("Upload data before optimising.", "error")
        return redirect(url_for("data.index"))
    job_id = start_optimise(current_app._get_current_object(), g.federation.id, g.user.id)
    flash(f"The optimiser is running (run {job_id}); the rota appears when it ends.", "info")
    return redirect(url_for(".index"))

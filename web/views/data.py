"""Uploads: CSV files or one workbook, checked by scheduler.io.load, previewed, then saved whole."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from web.db import get_db
from web.models import Dataset
from web.services.datasets import (
    SaveConflict,
    UploadBusy,
    find_dataset,
    preview_of,
    repeated_names,
    save_draft,
    upload_draft,
)
from web.services.problems import FILE_NAMES, current_dataset, labels_of, loaded
from web.services.upload_files import Caps, workbook_bytes
from web.views.auth import federation_blueprint, role_required

bp = federation_blueprint("data", __name__, "/data")

# One header and example rows per file, as DESIGN.md describes them.
TEMPLATES: dict[str, str] = {
    "practices.csv": "practice_code,name,list_size,adjusted_population,network\n"
    "P001,Riverside Surgery,12000,12500,North PCN\n",
    "hubs.csv": "hub_id,name,address,postcode,rooms,network\n"
    "H1,Riverside Hub,1 River Street,AB1 2CD,3,North PCN\n",
    "clinicians.csv": "clinician_id,name,practice_code,role,email,skills,max_sessions_per_week,"
    "max_sessions_per_period,min_sessions_per_period,hubs,cost_per_hour,"
    "weekly_hours_elsewhere\n"
    "C001,Dr A Patel,P001,GP,a.patel@example.nhs.uk,,2,8,0,H1,95,37.5\n",
    "patterns.csv": "hub_id,weekday,start,end,roles,min,target,skill,bank_holidays,valid_from,"
    "valid_to\n"
    "H1,Mon,18:30,20:00,GP,1,1,,skip,,\n"
    "H1,Sat,09:00,17:00,GP;ANP,1,2,,skip,,\n",
    "sessions.csv": "hub_id,date,start,end,roles,min,target,skill,bank_holidays\n"
    "H1,2027-03-06,09:00,13:00,Practice Nurse,1,1,,run\n",
    "availability.csv": "clinician_id,date,status,start,end\n"
    "C001,2027-03-01,available,,\n"
    "C001,2027-03-06,preferred,09:00,13:00\n",
    "assignments.csv": "session_id,clinician_id,locked\nH1-20270301-1830-2000,C001,yes\n",
    "rota.toml": "[period]\nstart = 2027-03-01\nend = 2027-03-28\n\n[rules]\n"
    'availability_default = "unavailable"\nmin_rest_hours = 11\n'
    "max_consecutive_days = 6\nmax_weekly_hours = 48\nminutes_per_1000 = 60\n"
    "gp_cover = true\n",
}


def _dataset_or_404(dataset_id: int, draft: bool) -> Dataset:
    dataset = find_dataset(get_db(), g.federation.id, dataset_id, draft)
    if dataset is None:
        abort(404)
    return dataset


@bp.get("/")
def index():
    db = get_db()
    dataset = current_dataset(db, g.federation.id)
    history = db.scalars(
        select(Dataset)
        .where(Dataset.federation_id == g.federation.id, Dataset.version.is_not(None))
        .order_by(Dataset.version.desc())
        .limit(10)
    ).all()
    summary = loaded(dataset) if dataset is not None else None
    return render_template(
        "data/index.html",
        dataset=dataset,
        history=history,
        summary=summary,
        labels=labels_of(dataset) if dataset else {},
        templates=TEMPLATES,
    )


@bp.post("/upload")
@role_required("coordinator")
def upload():
    files = [(f.filename, f.stream) for f in request.files.getlist("files") if f and f.filename]
    if not files:
        flash("Choose the files to upload first.", "error")
        return redirect(url_for(".index"))
    try:
        result = upload_draft(
            get_db(), g.federation.id, g.user.id, files, Caps.of(current_app.config)
        )
    except UploadBusy:
        return render_template(
            "error.html",
            code=409,
            title="An upload is still being read",
            message="Your previous upload is still being read and checked. Wait for it to "
            "finish (its page will show the preview or the problems), then upload again.",
        ), 409
    if result.draft is None:
        return render_template(
            "data/errors.html", errors=result.errors, uploaded=[name for name, _ in files]
        ), 422
    return redirect(url_for(".draft", draft_id=result.draft.id))


@bp.get("/drafts/<int:draft_id>")
@role_required("coordinator")
def draft(draft_id: int):
    db = get_db()
    dataset = _dataset_or_404(draft_id, draft=True)
    preview, warnings = preview_of(db, g.federation.id, dataset)
    return render_template(
        "data/preview.html",
        draft=dataset,
        preview=preview,
        warnings=warnings,
        current=current_dataset(db, g.federation.id),
        repeated=repeated_names(dataset),
    )


@bp.post("/drafts/<int:draft_id>/save")
@role_required("coordinator")
def save(draft_id: int):
    dataset = _dataset_or_404(draft_id, draft=True)
    try:
        version = save_draft(get_db(), g.federation.id, dataset)
    except SaveConflict:
        flash(
            "Someone else saved data at the same moment: nothing was saved. Upload again "
            "to see the changes against their version.",
            "error",
        )
        return redirect(url_for(".index"))
    flash(f"Saved: the data is now version {version}.", "success")
    return redirect(url_for(".index"))


@bp.post("/drafts/<int:draft_id>/discard")
@role_required("coordinator")
def discard(draft_id: int):
    db = get_db()
    db.delete(_dataset_or_404(draft_id, draft=True))
    db.commit()
    flash("Upload discarded: nothing was changed.", "info")
    return redirect(url_for(".index"))


@bp.get("/templates/<name>")
def template(name: str):
    if name == "workbook.xlsx":
        return _xlsx(workbook_bytes(TEMPLATES), "hubrota-template.xlsx")
    if name not in TEMPLATES:
        abort(404)
    return _csv(TEMPLATES[name], name)


@bp.get("/files/<name>")
def file(name: str):
    dataset = current_dataset(get_db(), g.federation.id)
    if dataset is None or name not in dataset.texts() or name not in FILE_NAMES:
        abort(404)
    if name.endswith(".toml"):
        return Response(
            dataset.texts()[name],
            mimetype="application/toml",
            headers={"Content-Disposition": f"attachment; filename={name}"},
        )
    return _csv(dataset.texts()[name], name)


@bp.get("/workbook.xlsx")
def workbook():
    dataset = current_dataset(get_db(), g.federation.id)
    if dataset is None:
        abort(404)
    return _xlsx(
        workbook_bytes(dataset.texts()), f"{g.federation.slug}-data-v{dataset.version}.xlsx"
    )


def _csv(text: str, filename: str) -> Response:
    from web.services.cells import neutralise_csv

    return Response(
        neutralise_csv(text),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )

"""Data: upload files or a workbook as a draft, preview it, save or discard it; the current
version and its history."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, g, request
from sqlalchemy import select

from web.api.auth import requires
from web.api.problems import Problem
from web.api.resources import ID, Instant, blueprint, not_found
from web.db import get_db
from web.models import Dataset
from web.services.datasets import (
    SaveConflict,
    UploadBusy,
    find_dataset,
    preview_of,
    save_draft,
    upload_draft,
)
from web.services.problems import current_dataset, loaded
from web.services.upload_files import Caps

bp = blueprint("data", "/data", "Upload, preview and save the federation's input files")


class DatasetSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: a draft"}
    )
    note = ma.fields.String(required=True)
    created_at = Instant(required=True)
    files = ma.fields.Function(lambda d: sorted(f.name for f in d.files), required=True)


class CountsSchema(ma.Schema):
    practices = ma.fields.Integer(required=True)
    hubs = ma.fields.Integer(required=True)
    clinicians = ma.fields.Integer(required=True)
    sessions = ma.fields.Integer(required=True)
    period_start = ma.fields.Date(required=True)
    period_end = ma.fields.Date(required=True)


class CurrentSchema(ma.Schema):
    dataset = ma.fields.Nested(DatasetSchema, required=True, allow_none=True)
    counts = ma.fields.Nested(CountsSchema, required=True, allow_none=True)
    history = ma.fields.List(ma.fields.Nested(DatasetSchema), required=True)


class ChangeSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    details = ma.fields.List(ma.fields.String(), required=True)


class SectionSchema(ma.Schema):
    title = ma.fields.String(required=True)
    added = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)
    changed = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)
    removed = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)


class CellSchema(ma.Schema):
    clinician_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    day = ma.fields.Date(required=True)
    before = ma.fields.String(required=True)
    after = ma.fields.String(required=True)


class PreviewSchema(ma.Schema):
    draft = ma.fields.Nested(DatasetSchema, required=True)
    counts = ma.fields.Nested(CountsSchema, required=True)
    nothing_changes = ma.fields.Boolean(required=True)
    sections = ma.fields.List(ma.fields.Nested(SectionSchema), required=True)
    sessions_before = ma.fields.Integer(required=True)
    sessions_after = ma.fields.Integer(required=True)
    sessions_added = ma.fields.Integer(required=True)
    sessions_removed = ma.fields.Integer(required=True)
    period_before = ma.fields.List(ma.fields.Date(), required=True, allow_none=True)
    period_after = ma.fields.List(ma.fields.Date(), required=True)
    availability_changes = ma.fields.List(ma.fields.Nested(CellSchema), required=True)
    settings = ma.fields.List(ma.fields.String(), required=True)
    warnings = ma.fields.List(ma.fields.String(), required=True)


class SavedSchema(ma.Schema):
    version = ma.fields.Integer(required=True)
    dataset = ma.fields.Nested(DatasetSchema, required=True)


class UploadSchema(ma.Schema):
    files = ma.fields.Raw(
        metadata={
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "CSV files named as in the data guide, rota.toml, or one .xlsx "
            "workbook; files not sent keep their current version",
        }
    )


def _counts(dataset: Dataset) -> dict:
    p = loaded(dataset).problem
    return {
        "practices": len(p.practices),
        "hubs": len(p.hubs),
        "clinicians": len(p.clinicians),
        "sessions": len(p.sessions),
        "period_start": p.period_start,
        "period_end": p.period_end,
    }


def _draft(draft_id: int) -> Dataset:
    dataset = find_dataset(get_db(), g.federation.id, draft_id, draft=True)
    if dataset is None:
        raise not_found("such draft")
    return dataset


@bp.get("/")
@bp.response(200, CurrentSchema)
def current():
    """The current data version, its counts, and the last saved versions."""
    db = get_db()
    dataset = current_dataset(db, g.federation.id)
    history = db.scalars(
        select(Dataset)
        .where(Dataset.federation_id == g.federation.id, Dataset.version.is_not(None))
        .order_by(Dataset.version.desc())
        .limit(10)
    ).all()
    return {
        "dataset": dataset,
        "counts": _counts(dataset) if dataset else None,
        "history": history,
    }


@bp.post("/uploads")
@requires("coordinator")
@bp.arguments(UploadSchema, location="files")
@bp.response(201, PreviewSchema)
@bp.alt_response(422, description="The files have errors: `errors` names file, row and column")
@bp.alt_response(409, description="The user's previous upload is still being read")
def upload(_files):
    """Upload files (multipart, field `files`, repeated) as a draft: checked whole, exactly as
    the Data page checks them. Answers the draft's preview; nothing is current until saved."""
    files = [(f.filename, f.stream) for f in request.files.getlist("files") if f and f.filename]
    if not files:
        raise Problem(
            422,
            "Send the files as multipart form data, field `files`.",
            errors=[{"field": "files", "message": "no files"}],
        )
    try:
        result = upload_draft(
            get_db(), g.federation.id, g.user.id, files, Caps.of(current_app.config)
        )
    except UploadBusy:
        raise Problem(
            409,
            "Your previous upload is still being read and checked: upload again when it ends.",
            kind="upload-busy",
        ) from None
    if result.draft is None:
        errors = [{k: e[k] for k in ("file", "row", "column", "message")} for e in result.errors]
        raise Problem(
            422,
            f"The upload has {len(errors)} error{'s' if len(errors) != 1 else ''}: "
            "nothing was saved.",
            kind="input-errors",
            errors=errors,
        )
    current_app.logger.info("draft %s uploaded through the API", result.draft.id)
    return _preview(result.draft)


def _preview(draft: Dataset) -> dict:
    preview, warnings = preview_of(get_db(), g.federation.id, draft)
    return {
        "draft": draft,
        "counts": _counts(draft),
        "nothing_changes": preview.nothing,
        "sections": preview.sections,
        "sessions_before": preview.sessions_before,
        "sessions_after": preview.sessions_after,
        "sessions_added": preview.sessions_added,
        "sessions_removed": preview.sessions_removed,
        "period_before": list(preview.period_before) if preview.period_before else None,
        "period_after": list(preview.period_after),
        "availability_changes": preview.cells,
        "settings": preview.settings,
        "warnings": warnings,
    }


@bp.get(f"/drafts/<{ID}:draft_id>")
@requires("coordinator")
@bp.response(200, PreviewSchema)
def draft(draft_id: int):
    """What saving the draft would change against the current data."""
    return _preview(_draft(draft_id))


@bp.post(f"/drafts/<{ID}:draft_id>/save")
@requires("coordinator")
@bp.response(200, SavedSchema)
@bp.alt_response(409, description="Another version was saved at the same moment")
def save(draft_id: int):
    """The draft becomes the current data (the next version); other drafts are dropped."""
    dataset = _draft(draft_id)
    try:
        version = save_draft(get_db(), g.federation.id, dataset)
    except SaveConflict:
        raise Problem(
            409,
            "Someone else saved data at the same moment: nothing was saved. Upload again.",
            kind="conflict",
        ) from None
    return {"version": version, "dataset": dataset}


@bp.delete(f"/drafts/<{ID}:draft_id>")
@requires("coordinator")
@bp.response(204)
def discard(draft_id: int):
    """Discard the draft: nothing changes."""
    db = get_db()
    db.delete(_draft(draft_id))
    db.commit()
    return ""
